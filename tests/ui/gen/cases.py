"""The compile-fail cases of tests/ui/fail/<topic>/<name>.rs, one mistake
each (except where a case checks that several are reported together).
Run `python3 tests/ui/gen/cases.py` to (re)write the files, then
`TRYBUILD=overwrite cargo test -p io-model-tests --test ui` for the .stderr."""
import os, textwrap

HEAD = "#[allow(unused_imports)]\nuse io_model::{Completion, IOResult, Result};\n\n"
SUB = """fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

"""

def free(body, sig="st: &mut FState, c: Completion", ret="Result<IOResult<u32>>", attr="state = st", extra=""):
    return HEAD + SUB + extra + f"#[io_model::resumable({attr})]\nfn f({sig}) -> {ret} {{\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n}\n\nfn main() {}\n"

CASES = {}
def case(topic, name, src):
    CASES[(topic, name)] = src

# ---- args
case("args", "unknown_and_duplicate", HEAD + """#[io_model::resumable(state = st, state = st, colour = red)]
fn f(st: &mut FState) -> Result<IOResult<()>> {
    Ok(IOResult::Done(()))
}

fn main() {}
""")
case("args", "duplicate_name", free("wait!(c);\nOk(IOResult::Done(1))", attr="state = st, name = A, name = B", sig="st: &mut A, c: Completion"))
case("args", "missing_state_free_fn", free("wait!(c);\nOk(IOResult::Done(1))", attr=""))
case("args", "state_not_a_place", free("wait!(c);\nOk(IOResult::Done(1))", attr="state = 0"))
case("args", "state_is_bare_self", HEAD + """struct S {
    st: RunState,
}

#[io_model::resumable]
impl S {
    #[resumable(state = self)]
    fn run(&mut self) -> Result<IOResult<()>> {
        Ok(IOResult::Done(()))
    }
}

fn main() {}
""")
case("args", "name_not_an_ident", free("wait!(c);\nOk(IOResult::Done(1))", attr="state = st, name = crate::FState"))
case("args", "state_param_missing", free("wait!(c);\nOk(IOResult::Done(1))", attr="state = state"))
case("args", "state_param_wrong_type", free("wait!(c);\nOk(IOResult::Done(1))", sig="st: &mut u32, c: Completion"))
case("args", "state_param_not_mut", free("wait!(c);\nOk(IOResult::Done(1))", sig="st: &FState, c: Completion"))
case("args", "name_value_form", HEAD + """struct S {
    st: RunState,
}

#[io_model::resumable]
impl S {
    #[resumable = "self.st"]
    fn run(&mut self) -> Result<IOResult<()>> {
        Ok(IOResult::Done(()))
    }
}

fn main() {}
""")
case("args", "arguments_on_impl_block", HEAD + """struct S {
    st: RunState,
}

#[io_model::resumable(state = self.st)]
impl S {
    #[resumable(state = self.st)]
    fn run(&mut self) -> Result<IOResult<()>> {
        Ok(IOResult::Done(()))
    }
}

fn main() {}
""")
case("args", "impl_without_resumable_methods", HEAD + """struct S;

#[io_model::resumable]
impl S {
    fn run(&mut self) -> Result<IOResult<()>> {
        Ok(IOResult::Done(()))
    }
}

fn main() {}
""")
case("args", "method_missing_state", HEAD + """struct S {
    st: RunState,
}

#[io_model::resumable]
impl S {
    #[resumable]
    fn run(&mut self) -> Result<IOResult<()>> {
        Ok(IOResult::Done(()))
    }
}

fn main() {}
""")
case("args", "state_field_of_wrong_type", HEAD + """struct S {
    st: u32,
}

#[io_model::resumable]
impl S {
    #[resumable(state = self.st)]
    fn run(&mut self, c: Completion) -> Result<IOResult<()>> {
        wait!(c);
        Ok(IOResult::Done(()))
    }
}

fn main() {}
""")
case("args", "guard_of_wrong_type", HEAD + """use std::sync::Mutex;

struct S {
    st: Mutex<u32>,
}

#[io_model::resumable]
impl S {
    #[resumable(state = self.st.lock().unwrap())]
    fn run(&self, c: Completion) -> Result<IOResult<()>> {
        wait!(c);
        Ok(IOResult::Done(()))
    }
}

fn main() {}
""")
case("args", "self_field_on_free_fn", free("wait!(c);\nOk(IOResult::Done(1))", attr="state = self.st"))

# ---- placement
case("placement", "on_a_struct", """#[io_model::resumable(state = st)]
struct S;

fn main() {}
""")
case("placement", "async_fn", HEAD + """#[io_model::resumable(state = st)]
async fn f(st: &mut FState, c: Completion) -> Result<IOResult<()>> {
    wait!(c);
    Ok(IOResult::Done(()))
}

fn main() {}
""")
case("placement", "const_fn", HEAD + """#[io_model::resumable(state = st)]
const fn f(st: &mut FState) -> Result<IOResult<()>> {
    Ok(IOResult::Done(()))
}

fn main() {}
""")
for recv, name in [("self", "self_by_value"), ("&self", "self_by_shared_ref")]:
    case("placement", name, HEAD + f"""struct S {{
    st: RunState,
}}

#[io_model::resumable]
impl S {{
    #[resumable(state = self.st)]
    fn run({recv}, c: Completion) -> Result<IOResult<()>> {{
        wait!(c);
        Ok(IOResult::Done(()))
    }}
}}

fn main() {{}}
""")
case("placement", "on_a_trait", HEAD + """#[io_model::resumable]
trait T {
    fn run(&mut self) -> Result<IOResult<()>>;
}

fn main() {}
""")

# ---- signature
case("signature", "no_return_type", free("wait!(c);", ret="()").replace("-> () ", ""))
case("signature", "result_without_ioresult", free("wait!(c);\nOk(1)", ret="Result<u32>"))
case("signature", "error_type_without_from_completion_error", HEAD + """#[derive(Debug)]
struct MyError;

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> std::result::Result<IOResult<u32>, MyError> {
    wait!(c);
    Ok(IOResult::Done(1))
}

fn main() {}
""")
case("signature", "call_error_does_not_convert", HEAD + """#[derive(Debug)]
struct Other;

fn sub() -> std::result::Result<IOResult<u32>, Other> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState) -> Result<IOResult<u32>> {
    let v: u32 = call!(sub());
    Ok(IOResult::Done(v))
}

fn main() {}
""")

# ---- types of operands
case("types", "wait_operand_not_a_completion", free("let n: u32 = 4;\nwait!(n);\nOk(IOResult::Done(n))"))
case("types", "wait_on_an_operation", free("wait!(sub());\nOk(IOResult::Done(1))"))
case("types", "call_operand_not_an_ioresult", free("let v: u32 = call!(c);\nOk(IOResult::Done(v))"))
case("types", "call_operand_plain_result", free("let v: u32 = call!(\"1\".parse::<u32>());\nOk(IOResult::Done(v))"))
case("types", "wait_all_of_numbers", free("wait_all!(vec![1u32, 2]);\nOk(IOResult::Done(1))"))

# ---- markers in unsupported places
case("markers", "outside_attribute_wait", HEAD + """use io_model::wait;

fn f(c: Completion) -> Result<IOResult<()>> {
    wait!(c);
    Ok(IOResult::Done(()))
}

fn main() {}
""")
for m, arg in [("call", "f()"), ("wait_all", "v"), ("yield_now", "")]:
    case("markers", f"outside_attribute_{m}", f"use io_model::{m};\n\nfn main() {{\n    {m}!({arg});\n}}\n")
case("markers", "in_closure", free("let w = |c: Completion| {\n    wait!(c);\n};\nw(c);\nOk(IOResult::Done(1))"))
case("markers", "in_async_block", free("let fut = async {\n    yield_now!();\n};\ndrop(fut);\nwait!(c);\nOk(IOResult::Done(1))"))
case("markers", "in_nested_fn", free("fn inner(c: Completion) {\n    wait!(c);\n}\ninner(c);\nOk(IOResult::Done(1))"))
case("markers", "in_println_args", free("println!(\"{}\", call!(sub()));\nwait!(c);\nOk(IOResult::Done(1))"))
case("markers", "in_vec_macro", free("let v: Vec<u32> = vec![call!(sub())];\nwait!(c);\nOk(IOResult::Done(v[0]))"))
case("markers", "in_const_block", free("let x: u32 = const {\n    call!(sub())\n};\nwait!(c);\nOk(IOResult::Done(x))"))
case("markers", "in_match_guard", free("let x: u32 = 3;\nmatch x {\n    n if call!(sub()) > n => {}\n    _ => {}\n}\nwait!(c);\nOk(IOResult::Done(x))"))
case("markers", "in_short_circuit_condition", free("let ok: bool = true;\nif ok && call!(sub()) > 0 {\n    wait!(c);\n}\nOk(IOResult::Done(1))"))
case("markers", "in_call_argument", free("fn consume(_: u32) {}\nconsume(call!(sub()));\nwait!(c);\nOk(IOResult::Done(1))"))
case("markers", "as_binary_operand", free("let v: u32 = call!(sub()) + 1;\nwait!(c);\nOk(IOResult::Done(v))"))
case("markers", "as_method_receiver", free("let v: String = call!(sub()).to_string();\nwait!(c);\nOk(IOResult::Done(v.len() as u32))"))
case("markers", "in_return_value", free("wait!(c);\nreturn Ok(IOResult::Done(call!(sub())));"))
case("markers", "in_break_value", free("let v: u32 = loop {\n    break call!(sub());\n};\nwait!(c);\nOk(IOResult::Done(v))"))
case("markers", "with_question_mark", free("let v: u32 = call!(sub())?;\nwait!(c);\nOk(IOResult::Done(v))"))
case("markers", "in_for_iterable", free("for i in call!(sub())..10 {\n    let _ = i;\n}\nwait!(c);\nOk(IOResult::Done(1))"))
case("markers", "nested_markers", free("let v: u32 = call!(wrap(call!(sub())));\nwait!(c);\nOk(IOResult::Done(v))", extra="fn wrap(x: u32) -> Result<IOResult<u32>> {\n    Ok(IOResult::Done(x))\n}\n\n"))
case("markers", "in_struct_literal", free("struct P {\n    x: u32,\n}\nlet p = P { x: call!(sub()) };\nwait!(c);\nOk(IOResult::Done(p.x))"))
case("markers", "in_tuple", free("let t: (u32, u32) = (1, call!(sub()));\nwait!(c);\nOk(IOResult::Done(t.1))"))
case("markers", "in_index", free("let v: Vec<u32> = vec![1, 2];\nlet x: u32 = v[call!(sub()) as usize];\nwait!(c);\nOk(IOResult::Done(x))"))
case("markers", "behind_reference", free("let r: &u32 = &call!(sub());\nlet v: u32 = *r;\nwait!(c);\nOk(IOResult::Done(v))"))
case("markers", "wait_without_operand", free("wait!();\nwait!(c);\nOk(IOResult::Done(1))"))
case("markers", "yield_with_operand", free("yield_now!(c);\nOk(IOResult::Done(1))"))
case("markers", "call_with_two_operands", free("let v: u32 = call!(sub(), sub());\nwait!(c);\nOk(IOResult::Done(v))"))
case("markers", "in_while_short_circuit", free("let mut n: u32 = 3;\nwhile n > 0 && call!(sub()) > 0 {\n    wait!(c.clone());\n    n -= 1;\n}\nOk(IOResult::Done(n))"))
case("markers", "in_cast", free("let v: u64 = call!(sub()) as u64;\nwait!(c);\nOk(IOResult::Done(v as u32))"))
case("markers", "in_assignment_place", free("let mut v: Vec<u32> = vec![0; 4];\nv[call!(sub()) as usize] = 1;\nwait!(c);\nOk(IOResult::Done(v[1]))"))

case("markers", "wait_as_argument", free("fn consume(_: ()) {}\nconsume(wait!(c));\nOk(IOResult::Done(1))"))

# ---- labels
case("labels", "duplicate_label", free("wait!(Read => c.clone());\nwait!(Read => c);\nOk(IOResult::Done(1))"))
case("labels", "lowercase_label", free("wait!(read_header => c);\nOk(IOResult::Done(1))"))
case("labels", "reserved_idle", free("wait!(Idle => c);\nOk(IOResult::Done(1))"))
case("labels", "clashes_with_generated_name", free("wait!(Call0 => c);\nlet v: u32 = call!(sub());\nOk(IOResult::Done(v))"))
case("labels", "label_with_underscore", free("yield_now!(Read_Header);\nwait!(c);\nOk(IOResult::Done(1))"))

# ---- liveness and types of stored locals
case("liveness", "untyped_local", free("let x = compute();\nwait!(c);\nOk(IOResult::Done(x))", extra="fn compute() -> u32 {\n    4\n}\n\n"))
case("liveness", "one_error_under_deny_warnings", """#![deny(warnings)]
// The imports are used only in the body: one mistake there still gives one
// error, not an unused-import error besides.
use io_model::{Completion, IOResult, Result};
use std::collections::HashMap;

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<usize>> {
    let mut m = HashMap::<u32, u32>::new();
    m.insert(1, 2);
    wait!(c);
    let v: u32 = call!(sub());
    Ok(IOResult::Done(m.len() + v as usize))
}

fn main() {}
""")
case("liveness", "untyped_integer_literal", free("let x = 4;\nwait!(c);\nOk(IOResult::Done(x))"))
case("liveness", "reference_held", free("let data: Vec<u32> = vec![1];\nlet first: &u32 = &data[0];\nwait!(c);\nOk(IOResult::Done(*first))"))
case("liveness", "untyped_reference_held", free("let data: Vec<u32> = vec![1];\nlet first = &data[0];\nwait!(c);\nOk(IOResult::Done(*first))"))
case("liveness", "ref_binding_held", free("let data: (u32, u32) = (1, 2);\nlet (ref a, _) = data;\nwait!(c);\nOk(IOResult::Done(*a))"))
case("liveness", "for_iterator_type_unknown", free("let mut sum: u32 = 0;\nfor x in make() {\n    wait!(c.clone());\n    sum += x;\n}\nOk(IOResult::Done(sum))", extra="fn make() -> Vec<u32> {\n    vec![1]\n}\n\n"))
case("liveness", "for_tuple_pattern", free("let pairs: Vec<(u32, u32)> = vec![(1, 2)];\nlet mut sum: u32 = 0;\nfor (a, b) in pairs {\n    wait!(c.clone());\n    sum += a + b;\n}\nOk(IOResult::Done(sum))"))
case("liveness", "match_binding", free("let o: Option<u32> = Some(1);\nmatch o {\n    Some(v) => {\n        wait!(c);\n        Ok(IOResult::Done(v))\n    }\n    None => Ok(IOResult::Done(0)),\n}"))
case("liveness", "if_let_binding", free("let o: Option<u32> = Some(1);\nif let Some(v) = o {\n    wait!(c);\n    return Ok(IOResult::Done(v));\n}\nOk(IOResult::Done(0))"))
case("liveness", "let_else_binding", free("let o: Option<u32> = Some(1);\nlet Some(v) = o else {\n    return Ok(IOResult::Done(0));\n};\nwait!(c);\nOk(IOResult::Done(v))"))
case("liveness", "while_let_binding", free("let mut it = vec![1u32].into_iter();\nlet mut sum: u32 = 0;\nwhile let Some(v) = it.next() {\n    wait!(c.clone());\n    sum += v;\n}\nOk(IOResult::Done(sum))"))
case("liveness", "tuple_pattern_without_types", free("let (a, b) = make();\nwait!(c);\nOk(IOResult::Done(a + b))", extra="fn make() -> (u32, u32) {\n    (1, 2)\n}\n\n"))
case("liveness", "inferred_type", free("let v: Vec<_> = vec![1u32];\nwait!(c);\nOk(IOResult::Done(v[0]))"))
case("liveness", "impl_trait_type", free("let it: std::iter::Once<u32> = std::iter::once(1);\nlet f = move || it.clone().count() as u32;\nwait!(c);\nOk(IOResult::Done(f()))"))
case("liveness", "generic_parameter_stored", HEAD + """#[io_model::resumable(state = st)]
fn f<T: Clone>(st: &mut FState, c: Completion, x: T) -> Result<IOResult<T>> {
    let y: T = x.clone();
    wait!(c);
    Ok(IOResult::Done(y))
}

fn main() {}
""")
case("liveness", "lifetime_in_stored_type", HEAD + """struct View<'a>(&'a [u8]);

#[io_model::resumable(state = st)]
fn f<'a>(st: &mut FState, c: Completion, data: &'a [u8]) -> Result<IOResult<usize>> {
    let v: View<'a> = View(data);
    wait!(c);
    Ok(IOResult::Done(v.0.len()))
}

fn main() {}
""")
case("liveness", "shadowed_live_local", free("let x: u32 = 1;\n{\n    let x: u64 = 2;\n    wait!(c);\n    let _ = x;\n}\nOk(IOResult::Done(x))"))
case("liveness", "every_problem_at_once", free("let a = compute();\nlet r: &u32 = &a;\nwait!(c);\nlet d: u32 = call!(sub()) + *r;\nOk(IOResult::Done(a + d))", extra="fn compute() -> u32 {\n    4\n}\n\n"))
case("liveness", "impl_generic_stored", HEAD + """struct S<T> {
    items: Vec<T>,
    st: PushState,
}

#[io_model::resumable]
impl<T: Clone> S<T> {
    #[resumable(state = self.st)]
    fn push(&mut self, c: Completion, item: T) -> Result<IOResult<()>> {
        let copy: T = item.clone();
        wait!(c);
        self.items.push(copy);
        Ok(IOResult::Done(()))
    }
}

fn main() {}
""")

case("args", "name_is_a_keyword", free("wait!(c);\nOk(IOResult::Done(1))", attr="state = st, name = Self", sig="st: &mut u8, c: Completion"))
case("args", "no_enum_name_from_fn_name", HEAD + """#[io_model::resumable(state = st)]
fn _1(st: &mut State) -> Result<IOResult<()>> {
    Ok(IOResult::Done(()))
}

fn main() {}
""")
case("markers", "let_as_operand", free("let o: Option<Completion> = Some(c);\nwait!(let Some(x) = o);\nOk(IOResult::Done(1))"))

# ---- reserved names
case("reserved", "io_prefix", free("let __io_c: u32 = 1;\nwait!(c);\nOk(IOResult::Done(__io_c))"))
case("args", "state_param_shadowed", free("let st: u32 = 3;\nwait!(c);\nOk(IOResult::Done(st))"))
case("placement", "bare_method", HEAD + """struct S {
    st: RunState,
}

impl S {
    #[io_model::resumable]
    fn run(&mut self) -> Result<IOResult<()>> {
        Ok(IOResult::Done(()))
    }
}

fn main() {}
""")

if __name__ == "__main__":
    root = os.path.join(os.path.dirname(__file__), "..", "fail")
    for (topic, name), src in CASES.items():
        d = os.path.join(root, topic)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name + ".rs"), "w") as f:
            f.write(src)
    print(len(CASES), "cases")
