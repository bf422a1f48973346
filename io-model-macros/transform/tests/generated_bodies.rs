//! Property test: the expander never panics on generated functions.
//!
//! A seeded generator (splitmix64) writes random `#[resumable]` functions
//! from a small grammar: `let`s with and without types, `let`-`else`,
//! `if`/`else`, `if let`, `match` with guards, `loop`/`while`/`while let`/
//! `for` with labels, `break` with values, `continue`, `return`, `?`,
//! closures, nested and `unsafe` blocks, assignments, method calls, other
//! macros, nested items, and the four suspension markers in allowed and
//! disallowed positions, with good, duplicate and bad state labels. Each is
//! a free function (`state = st`) or the methods of an `impl` block
//! (`#[resumable(state = self.st)]`), with generics, lifetimes, every kind of
//! receiver, `async`/`const`, and wrong attribute arguments and return types
//! now and then. About half are then mutated on the syntax tree (statements
//! deleted, duplicated, swapped or moved; an expression wrapped in a call
//! or closure; a marker moved into an operand; a type replaced by `_` or
//! `&T`; labels and names changed; loops and `let`s reshaped) or, rarely,
//! at the token level.
//!
//! Each input goes to `expand` and `expand_or_fallback` under
//! `catch_unwind`. The test fails on a panic, on an `Ok` expansion that
//! does not parse as a `syn::File`, and on an error that reports a broken
//! invariant of the transform (`BUG: ..`), printing the case's seed and the
//! input (shrunk and pretty-printed). Failures already reported are listed in
//! `support::KNOWN` with the ignored regression test below that reproduces
//! each; they are counted, not failed, unless `IO_MODEL_FUZZ_STRICT=1`.
//!
//! Quick run (the default 2000 cases, about 10 s in a debug build on 2 cores):
//!   cargo test -p io-model-transform --test generated_bodies -- --nocapture
//! Long run (or `.ci/no-panic-long`):
//!   IO_MODEL_FUZZ_ITERS=1000000 cargo test --release -p io-model-transform \
//!       --test generated_bodies -- --nocapture
//! Other knobs: `IO_MODEL_FUZZ_SEED=N` (the base seed), `IO_MODEL_FUZZ_CASE=0x..`
//! (replay one case by the seed a failure printed; the ignored `show_case`
//! test prints it).

mod support;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::str::FromStr;

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit_mut::{self, VisitMut};

use support::{check, env_usize, known, pretty, shrink, state_enum_name, strict, Failure};

/// Iterations of the default run: a few seconds in a debug build on two
/// cores.
const DEFAULT_ITERS: usize = 2000;
const DEFAULT_SEED: u64 = 0x10_0de1_5eed;

// ----- the random source -----

/// splitmix64.
struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    /// Picks by weight: `(weight, value)`.
    fn weighted<T: Copy>(&mut self, xs: &[(usize, T)]) -> T {
        let total: usize = xs.iter().map(|x| x.0).sum();
        let mut r = self.below(total);
        for &(w, v) in xs {
            if r < w {
                return v;
            }
            r -= w;
        }
        xs[xs.len() - 1].1
    }
}

/// The seed of case `i` of a run with base seed `base`.
fn case_seed(base: u64, i: usize) -> u64 {
    mix(base ^ mix(i as u64))
}

// ----- the generator -----

/// Writes one random input as source text.
struct Gen {
    rng: Rng,
    /// Statements left to write in this function.
    budget: usize,
    /// Nesting depth of blocks.
    depth: usize,
    /// Names usable in expressions (locals and parameters in scope).
    names: Vec<String>,
    /// Enclosing loops' labels (`None` for an unlabelled loop).
    loops: Vec<Option<String>>,
    /// State labels given so far (for duplicates).
    labels: Vec<String>,
    fresh: usize,
    /// The function has a type parameter `T`.
    generic: bool,
    /// Leave out the deliberate mistakes (bad markers, names, types,
    /// signatures and arguments), so that most inputs reach the code
    /// generator.
    clean: bool,
}

const LOCAL_STEMS: &[&str] = &[
    "n", "x", "sum", "buf", "page", "idx", "total", "acc", "len", "ok", "v", "item",
];
const ODD_LOCALS: &[&str] = &[
    "st", "c", "r#type", "r#match", "_x", "Upper", "self_", "__io_tmp", "r#loop", "ñ",
];
const STORABLE_TYPES: &[&str] = &[
    "u32",
    "u64",
    "usize",
    "i64",
    "bool",
    "char",
    "f64",
    "String",
    "Vec<u8>",
    "Option<u32>",
    "(u32, bool)",
    "[u8; 4]",
    "&'static str",
    "Completion",
    "Vec<Completion>",
    "Box<[u8]>",
    "std::collections::HashMap<u32, String>",
    "Result<u32, Error>",
    "io_model::Completion",
    "Self",
    "fn(u8) -> u8",
    "Box<dyn Fn() -> u32>",
    "()",
    "!",
];
const BAD_TYPES: &[&str] = &[
    "&[u8]",
    "&mut u32",
    "_",
    "impl Fn()",
    "&'a str",
    "Option<_>",
    "Box<dyn Fn() + 'a>",
    "[_; 3]",
    "Vec<&u8>",
    "Cow<'a, str>",
    "T",
    "Vec<T>",
    "<T as Iterator>::Item",
    "dyn Trait",
];
const COMPLETIONS: &[&str] = &[
    "c",
    "d",
    "s.io(n)",
    "self.file.sync(c)?",
    "Completion::new_sync(|_| {})",
    "cs[0].clone()",
    "make()",
    "p.read(idx)",
    "io_model::Completion::new_yield()",
];
const GROUPS: &[&str] = &[
    "cs",
    "writes",
    "vec![c, d]",
    "self.pending()",
    "pager.dirty.iter().map(|p| pager.write(*p)).collect()",
];
const OPS: &[&str] = &[
    "op()",
    "sub(&mut sub, n)",
    "self.read_one(n)",
    "load_child(&mut child, p, children[idx])",
    "read(st2, x)?",
    "io_model::call_me()",
    "S { a: 1 }",
    "S {}.f()",
    "(|| op())()",
];
const BAD_MARKERS: &[&str] = &[
    "wait!()",
    "wait!(c, d)",
    "yield_now!(a b)",
    "call!(Label =>)",
    "yield_now!(1)",
    "wait!(L => )",
    "call!(call!(op()))",
    "wait_all!(Foo => )",
    "wait![c]",
    "wait!{c}",
    "call!(|| 1)",
    "yield_now!(Label => x)",
    "wait!(=> c)",
    "call!(;)",
    "wait!(Lbl => wait!(c))",
    "yield_now!(r#Foo)",
    "wait!(L1 => L2 => c)",
    "call!(op(),)",
    "io_model::io_model::wait!(c)",
    "wait!(c; d)",
];
/// Operands of unusual shape (the marker must still expand or be refused,
/// whatever code it is spliced into).
const ODD_OPERANDS: &[&str] = &[
    "return",
    "return c",
    "break",
    "continue",
    "..",
    "a..",
    "..b",
    "..=b",
    "x..=y",
    "let x = c",
    "let Some(x) = c",
    "(let x = c)",
    "|| c",
    "|| {}",
    "move || x",
    "|x| x",
    "|| -> u8 { 1 }",
    "loop {}",
    "'l: loop { break 'l c }",
    "x = y",
    "c = d = e",
    "x += 1",
    "S { a: 1 }",
    "S {}.f()",
    "S { a: 1 } == s",
    "{ c }",
    "{ c }.f()",
    "unsafe { c }",
    "if a { c } else { d }",
    "match a { _ => c }",
    "while a {}",
    "for x in y {}",
    "c.await",
    "async { c }",
    "async move { c }",
    "const { c }",
    "#[attr] c",
    "#[attr] { c }",
    "c?",
    "a as u8 < b",
    "(a as u8) < b",
    "-1",
    "!c",
    "*c",
    "&mut c",
    "x || y",
    "yield",
    "yield c",
    "f::<T>(c)",
    "<T as Tr>::f()",
    "[c; 3]",
    "(c,)",
    "()",
    "c.0.1",
    "become f()",
    "r#match",
    "self",
    "Self",
    "crate",
    "super",
    "crate = x",
    "super::c",
    "1.0.max(2.)",
    "\"str\"",
    "b'x'",
    "'label: { break 'label c }",
    "try { c }",
    "format!(\"{c}\")",
    "wait!(c)",
    "__io_point!(0)",
];
const FN_NAMES: &[&str] = &[
    "read_two",
    "count_down",
    "commit",
    "balance",
    "f",
    "step",
    "r#match",
    "a__b",
    "_private",
    "x2",
    "fetch_page",
    "ñandú",
    "_1x",
    "run",
    "_\u{301}x",
];
const GOOD_LABELS: &[&str] = &["Fetch", "Read", "Sync", "Step", "Load", "Flush"];
const BAD_LABELS: &[&str] = &[
    "lower",
    "Idle",
    "Poisoned",
    "Wait0",
    "Call0",
    "Yield0",
    "WaitAll0",
    "Bad_Label",
    "Ärger",
    "X",
    "Call1",
];

/// `name` if it lexes as one identifier, else `FState`: the transform's
/// enum name for `fn _1()` is not an identifier (a known failure), but the
/// state parameter's type still has to lex.
fn lexable(name: String) -> String {
    let one_ident = TokenStream::from_str(&name)
        .ok()
        .map(|t| t.into_iter().collect::<Vec<_>>())
        .is_some_and(|t| t.len() == 1 && matches!(t[0], TokenTree::Ident(_)));
    if one_ident {
        name
    } else {
        "FState".to_string()
    }
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            rng: Rng(seed),
            budget: 0,
            depth: 0,
            names: Vec::new(),
            loops: Vec::new(),
            labels: Vec::new(),
            fresh: 0,
            generic: false,
            clean: false,
        }
    }

    /// A deliberate mistake with probability `percent` (never when clean).
    fn odd(&mut self, percent: usize) -> bool {
        !self.clean && self.rng.chance(percent)
    }

    fn fresh(&mut self) -> usize {
        self.fresh += 1;
        self.fresh
    }

    /// A name for a new local (and brings it into scope).
    fn new_local(&mut self) -> String {
        let name = match self.rng.below(100) {
            0..=74 => {
                let stem = self.rng.pick(LOCAL_STEMS);
                format!("{stem}{}", self.fresh())
            }
            75..=91 if !self.names.is_empty() && !self.clean => {
                self.names[self.rng.below(self.names.len())].clone()
            }
            _ if !self.clean => self.rng.pick(ODD_LOCALS).to_string(),
            _ => format!("w{}", self.fresh()),
        };
        self.names.push(name.clone());
        name
    }

    /// A pattern (its bindings come into scope). `top`: where an
    /// or-pattern may stand unparenthesized, maybe with a leading `|`.
    fn pat(&mut self, d: usize, top: bool) -> String {
        let p = self.pat_inner(d);
        if p.contains('|') && !top {
            format!("({p})")
        } else if top && self.rng.chance(5) {
            format!("| {p}")
        } else {
            p
        }
    }

    fn pat_inner(&mut self, d: usize) -> String {
        if d == 0 || self.rng.chance(45) {
            return match self.rng.below(12) {
                0..=6 => self.new_local(),
                7 => "_".into(),
                8 => format!("mut {}", self.new_local()),
                9 => format!("ref {}", self.new_local()),
                _ => self
                    .rng
                    .pick(&[
                        "0",
                        "1..=3",
                        "'a'..='z'",
                        "None",
                        "\"s\"",
                        "Self::A",
                        "K",
                        "-1",
                        "true",
                        "..",
                        "E::V { .. }",
                        "b'x'",
                    ])
                    .into(),
            };
        }
        let d = d - 1;
        match self.rng.below(10) {
            0 => format!("({}, {})", self.pat(d, true), self.pat(d, true)),
            1 => format!("Some({})", self.pat(d, true)),
            2 => format!("P {{ a: {}, {}, .. }}", self.pat(d, true), self.new_local()),
            3 => format!("[{}, .., {}]", self.pat(d, true), self.pat(d, true)),
            4 | 5 => format!("{} | {}", self.pat_inner(d), self.pat_inner(d)),
            6 => format!("{} @ {}", self.new_local(), self.pat(d, false)),
            7 => format!("&{}", self.pat(d, false)),
            8 => format!("Ok({}) | Err({})", self.pat(d, true), self.pat(d, true)),
            _ => format!("({},)", self.pat(d, true)),
        }
    }

    fn ty(&mut self) -> String {
        if !self.odd(18) {
            self.rng.pick(STORABLE_TYPES).to_string()
        } else {
            self.rng.pick(BAD_TYPES).to_string()
        }
    }

    fn lit(&mut self) -> String {
        self.rng
            .pick(&[
                "0",
                "1",
                "7u32",
                "3usize",
                "2u8",
                "-1i64",
                "1.5f64",
                "true",
                "false",
                "'c'",
                "\"s\"",
                "b'x'",
                "b\"bytes\"",
                "0xffu64",
                "1_000",
                "()",
                "None",
                "5u64",
            ])
            .to_string()
    }

    fn leaf(&mut self) -> String {
        match self.rng.below(10) {
            0..=4 if !self.names.is_empty() => {
                let n = self.names[self.rng.below(self.names.len())].clone();
                if n == "_" {
                    "x".into()
                } else {
                    n
                }
            }
            5 => self
                .rng
                .pick(&[
                    "n",
                    "c",
                    "cs",
                    "self.total",
                    "K",
                    "S",
                    "v",
                    "Self::MAX",
                    "p",
                    "s",
                ])
                .into(),
            _ => self.lit(),
        }
    }

    /// An expression where a marker may not stand (unless it is the sink
    /// the caller puts it in).
    fn expr(&mut self, d: usize) -> String {
        if d == 0 || self.rng.chance(35) {
            return self.leaf();
        }
        let d = d - 1;
        if self.odd(3) {
            return self.marker();
        }
        match self.rng.below(30) {
            0 | 1 => {
                let op = self.rng.pick(&[
                    "+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||", "&", "|", "^",
                    "<<", ">>",
                ]);
                format!("{} {op} {}", self.expr(d), self.expr(d))
            }
            2 => format!("{}{}", self.rng.pick(&["!", "-", "*"]), self.expr(d)),
            3 | 4 => {
                let f = self.rng.pick(&[
                    "f",
                    "g",
                    "compute",
                    "Some",
                    "Ok",
                    "Box::new",
                    "std::mem::take",
                    "load",
                ]);
                let args: Vec<String> = (0..self.rng.below(3)).map(|_| self.expr(d)).collect();
                format!("{f}({})", args.join(", "))
            }
            5 | 6 => {
                let m = self.rng.pick(&[
                    "len", "clone", "push", "get", "iter", "unwrap", "min", "io", "finished",
                    "is_some", "count",
                ]);
                let args: Vec<String> = (0..self.rng.below(2)).map(|_| self.expr(d)).collect();
                format!("{}.{m}({})", self.expr(d), args.join(", "))
            }
            7 => format!("{}.{}", self.expr(d), self.rng.pick(&["0", "x", "total"])),
            8 => format!("{}[{}]", self.expr(d), self.expr(d)),
            9 => format!(
                "({} as {})",
                self.expr(d),
                self.rng.pick(&["u64", "usize", "u8", "i32"])
            ),
            10 => format!("({}..{})", self.expr(d), self.expr(d)),
            11 => format!("({}, {})", self.expr(d), self.expr(d)),
            12 => format!("[{}, {}]", self.expr(d), self.expr(d)),
            13 => format!("P {{ a: {}, b: {} }}", self.expr(d), self.expr(d)),
            14 => format!("{}{}", self.rng.pick(&["&", "&mut "]), self.expr(d)),
            15 => format!("{}?", self.expr(d)),
            16 => match self.rng.below(3) {
                0 => format!("|{}| {}", self.pat(1, false), self.expr(d)),
                1 => format!("move |a: u32| -> u32 {{ {} }}", self.expr(d)),
                _ => format!("|| {}", self.block(1)),
            },
            17 => format!("{{ {}; {} }}", self.expr(d), self.expr(d)),
            18 => format!(
                "if {} {{ {} }} else {{ {} }}",
                self.cond(d),
                self.expr(d),
                self.expr(d)
            ),
            19 => format!(
                "match {} {{ 0 => {}, _ => {} }}",
                self.cond(d),
                self.expr(d),
                self.expr(d)
            ),
            20 => format!("loop {{ break {}; }}", self.expr(d)),
            21 => format!("unsafe {{ {} }}", self.expr(d)),
            22 => match self.rng.below(5) {
                0 => format!("vec![{}, {}]", self.expr(d), self.expr(d)),
                1 => format!("format!(\"{{}} {{x}}\", {})", self.expr(d)),
                2 => "vec![0u8; 4]".into(),
                3 => format!("matches!({}, Some(_))", self.expr(d)),
                _ => format!("my_mac!({} ; {})", self.expr(d), self.expr(d)),
            },
            23 => format!("async {{ {} }}", self.expr(d)),
            24 => format!("{}.await", self.expr(d)),
            25 => "Completion::new_sync(|_| {})".into(),
            26 => "const { 1 + 2 }".into(),
            27 => self
                .rng
                .pick(&[
                    "Self::K",
                    "<T as Tr>::f()",
                    "u32::MAX",
                    "crate::K",
                    "super::f()",
                ])
                .into(),
            28 => format!(
                "'blk{}: {{ break 'blk{0} {}; }}",
                self.fresh(),
                self.expr(d)
            ),
            _ => format!("({} = {})", self.leaf(), self.expr(d)),
        }
    }

    /// An expression in a condition position (struct literals need
    /// parentheses there).
    fn cond(&mut self, d: usize) -> String {
        let e = self.expr(d);
        if e.contains('{') {
            format!("({e})")
        } else {
            e
        }
    }

    fn label(&mut self, for_yield: bool) -> String {
        let label = match self.rng.below(100) {
            0..=69 => return String::new(),
            70..=86 => {
                let l = format!("{}{}", self.rng.pick(GOOD_LABELS), self.fresh());
                self.labels.push(l.clone());
                l
            }
            87..=92 if !self.labels.is_empty() && !self.clean => {
                self.labels[self.rng.below(self.labels.len())].clone()
            }
            _ if !self.clean => self.rng.pick(BAD_LABELS).to_string(),
            _ => return String::new(),
        };
        if for_yield {
            label
        } else {
            format!("{label} => ")
        }
    }

    /// A marker invocation (rarely a malformed one), now and then written
    /// with braces or brackets instead of parentheses.
    fn marker(&mut self) -> String {
        let m = self.marker_parens();
        if !self.odd(6) {
            return m;
        }
        match (m.find('('), m.ends_with(')')) {
            (Some(open), true) => {
                let (l, r) = if self.rng.chance(70) {
                    ("{", "}")
                } else {
                    ("[", "]")
                };
                format!("{} {l}{}{r}", &m[..open], &m[open + 1..m.len() - 1])
            }
            _ => m,
        }
    }

    fn marker_parens(&mut self) -> String {
        let path = self.rng.weighted(&[
            (85, ""),
            (6, "io_model::"),
            (5, "::io_model::"),
            (4, "other::"),
        ]);
        let path = if self.clean { "" } else { path };
        match self.rng.below(if self.clean { 18 } else { 20 }) {
            0..=5 => {
                let label = self.label(false);
                let op = if self.odd(10) {
                    self.rng.pick(ODD_OPERANDS).to_string()
                } else if self.rng.chance(80) {
                    self.rng.pick(COMPLETIONS).to_string()
                } else {
                    self.expr(1)
                };
                format!("{path}wait!({label}{op})")
            }
            6 | 7 => {
                let label = self.label(false);
                let op = if self.odd(10) {
                    self.rng.pick(ODD_OPERANDS)
                } else {
                    self.rng.pick(GROUPS)
                };
                format!("{path}wait_all!({label}{op})")
            }
            8..=13 => {
                let label = self.label(false);
                let op = if self.odd(10) {
                    self.rng.pick(ODD_OPERANDS).to_string()
                } else if self.rng.chance(80) {
                    self.rng.pick(OPS).to_string()
                } else {
                    self.expr(1)
                };
                format!("{path}call!({label}{op})")
            }
            14..=17 => {
                let label = self.label(true);
                format!("{path}yield_now!({label})")
            }
            _ => self.rng.pick(BAD_MARKERS).to_string(),
        }
    }

    /// A marker in a position where it is allowed.
    fn marker_stmt(&mut self) -> String {
        let m = self.marker();
        match self.rng.below(17) {
            0..=2 => format!("{m};"),
            3 => {
                let t = self.ty();
                let n = self.new_local();
                format!("let {n}: {t} = {m};")
            }
            4 => {
                let n = self.new_local();
                format!("let {n} = {m};")
            }
            5 => {
                let t = self.ty();
                let n = self.new_local();
                format!("let mut {n}: {t} = {m};")
            }
            6 => {
                let place = self.leaf();
                let op = self.rng.pick(&["=", "+=", "-=", "|=", "<<="]);
                format!("{place} {op} {m};")
            }
            7 => format!("if {m} {} else {}", self.block(2), self.block(2)),
            8 => {
                let scope = self.names.len();
                let y = self.new_local();
                let b = self.block(2);
                self.names.truncate(scope);
                format!("if let Some({y}) = {m} {b}")
            }
            9 => {
                let scope = self.names.len();
                let y = self.new_local();
                let b = self.block(2);
                self.names.truncate(scope);
                format!("match {m} {{ 0 => {{}}, {y} => {b} }}")
            }
            10 => {
                let label = self.loop_label();
                self.loops.push(label.clone());
                let b = self.block(2);
                self.loops.pop();
                let label = label.map(|l| format!("{l}: ")).unwrap_or_default();
                if self.rng.chance(50) {
                    format!("{label}while {m} {b}")
                } else {
                    format!("{label}while let Some(item) = {m} {b}")
                }
            }
            11 => {
                let y = self.new_local();
                format!("let Some({y}) = {m} else {{ return Ok(IOResult::Done(0)); }};")
            }
            12 => {
                let e = self.cond(1);
                let y = self.new_local();
                format!("let Some({y}) = {e} else {{ {m}; return Err(e); }};")
            }
            13 => {
                let t = self.ty();
                let inner = self.stmts(2);
                let n = self.new_local();
                format!("let {n}: {t} = {{ {inner} {m} }};")
            }
            14 => {
                let e = self.cond(1);
                let guard = if self.rng.chance(30) {
                    format!(" if {}", self.expr(1))
                } else {
                    String::new()
                };
                format!("match {e} {{ 0{guard} => {m}, Some(z) | Ok(z) => {{ {m}; }} _ => {{}} }}")
            }
            15 => format!("({m});"),
            _ => format!("unsafe {{ {m} }}"),
        }
    }

    /// A marker in a position where it is not allowed.
    fn bad_marker_stmt(&mut self) -> String {
        let m = self.marker();
        let e = self.expr(1);
        let n = self.new_local();
        let templates: &[&str] = &[
            "f({m});",
            "let {n} = {m} + 1;",
            "let {n} = &{m};",
            "let {n} = ({m}, 1);",
            "{m}?;",
            "return {m};",
            "loop { break {m}; }",
            "let {n} = || {m};",
            "let {n} = async { {m}; };",
            "let {n} = const { {m} };",
            "match {e} { y if {m} => {}, _ => {} }",
            "for y in {m} {}",
            "{m}.method();",
            "println!(\"{}\", {m});",
            "let {n} = vec![{m}];",
            "fn inner() { {m}; }",
            "let {n} = {m} as u32;",
            "let {n} = -{m};",
            "let {n} = P { a: {m} };",
            "v[{m}] = 1;",
            "let {n} = 0..{m};",
            "*{m} = 1;",
            "let {n} = call!(f({m}));",
            "let {n} = try { {m} };",
            "x.y({m});",
            "if {e} && {m} {}",
            "while let Some(a) = {m} && {e} {}",
            "let {n} = [{m}; 3];",
            "let {n} = {m}.await;",
            "let {n} = !{m};",
            "let {n} = |x| { {m}; x };",
            "impl S { fn f() { {m}; } }",
            "x = {m} = 1;",
            "(|| {m})();",
            "let {n} = &mut {m};",
            "let {n} = {m}[0];",
            "const K: u32 = {m};",
            "static S: u32 = { {m}; 1 };",
            "macro_rules! m { () => { {m} } }",
            "let {n} = if let Some(a) = x && {m} { 1 } else { 2 };",
            "let {n} = match {e} { _ if {m} => 1, _ => 2 };",
            "let ({n}, _) = ({m}, {m});",
            "let {n}: u32 = {m}?;",
            "{m}.0 = 2;",
            "let {n} = ({m}).x;",
        ];
        self.rng
            .pick(templates)
            .replace("{m}", &m)
            .replace("{e}", &e)
            .replace("{n}", &n)
    }

    fn loop_label(&mut self) -> Option<String> {
        match self.rng.below(10) {
            0..=4 => None,
            5..=7 => Some(format!("'l{}", self.fresh())),
            8 => self.loops.iter().rev().flatten().next().cloned(), // a duplicate label
            _ => Some(self.rng.pick(&["'a", "'outer", "'static"]).into()),
        }
    }

    fn loop_stmt(&mut self) -> String {
        let label = self.loop_label();
        let head = label.as_ref().map(|l| format!("{l}: ")).unwrap_or_default();
        let scope = self.names.len();
        let kind = self.rng.below(5);
        let pre = match kind {
            0 => "loop".to_string(),
            1 => format!("while {}", self.cond(1)),
            2 => {
                let y = if self.rng.chance(30) {
                    self.pat(2, true)
                } else {
                    format!("Some({})", self.new_local())
                };
                format!("while let {y} = {}", self.cond(1))
            }
            _ => {
                let iter = self.rng.pick(&[
                    "0..n",
                    "0..10usize",
                    "v",
                    "v.iter()",
                    "0..=k as u64",
                    "pages.into_iter()",
                    "0..children.len()",
                    "0u32..n",
                    "vec![1u8, 2]",
                    "(0..n).rev()",
                    "0..",
                ]);
                let pat = match self.rng.below(6) {
                    0 => "_".to_string(),
                    1 => {
                        let a = self.new_local();
                        let b = self.new_local();
                        format!("({a}, {b})")
                    }
                    2 => self.pat(2, true),
                    _ => self.new_local(),
                };
                format!("for {pat} in {iter}")
            }
        };
        self.loops.push(label);
        let body = self.block(3);
        self.loops.pop();
        self.names.truncate(scope);
        format!("{head}{pre} {body}")
    }

    fn break_or_continue(&mut self) -> String {
        if self.loops.is_empty() && self.rng.chance(80) {
            return "return Ok(IOResult::Done(1));".into();
        }
        let target = if !self.loops.is_empty() && self.rng.chance(50) {
            self.loops[self.rng.below(self.loops.len())].clone()
        } else {
            None
        };
        let label = target.map(|l| format!(" {l}")).unwrap_or_default();
        match self.rng.below(4) {
            0 => format!("continue{label};"),
            1 => {
                let value = if self.odd(15) {
                    self.rng
                        .pick(&["::core::u32::MAX", "::x", "<T>::default()"])
                        .to_string()
                } else {
                    self.expr(1)
                };
                format!("break{label} {value};")
            }
            _ => format!("break{label};"),
        }
    }

    fn let_stmt(&mut self) -> String {
        match self.rng.below(12) {
            0..=3 => {
                let t = self.ty();
                let e = self.expr(2);
                let n = self.new_local();
                let m = if self.rng.chance(30) { "mut " } else { "" };
                format!("let {m}{n}: {t} = {e};")
            }
            4 | 5 => {
                let e = if self.rng.chance(60) {
                    self.rng
                        .pick(&[
                            "7u32",
                            "true",
                            "'c'",
                            "\"s\"",
                            "n as u64",
                            "P { a: 1 }",
                            "v.len()",
                            "Completion::new_sync(|_| {})",
                            "x + 1",
                            "-2i8",
                            "!ok",
                        ])
                        .to_string()
                } else {
                    self.expr(2)
                };
                let n = self.new_local();
                let m = if self.rng.chance(40) { "mut " } else { "" };
                format!("let {m}{n} = {e};")
            }
            6 => {
                let a = self.new_local();
                let b = self.new_local();
                if self.rng.chance(50) {
                    format!("let ({a}, {b}): (u32, bool) = (1, true);")
                } else {
                    format!("let ({a}, mut {b}) = (1u8, {});", self.expr(1))
                }
            }
            7 => {
                let n = self.new_local();
                if self.rng.chance(50) {
                    format!("let {n};")
                } else {
                    format!("let {n}: {};", self.ty())
                }
            }
            8 => {
                let n = self.new_local();
                format!(
                    "let {}{n} = {};",
                    self.rng.pick(&["ref ", "ref mut ", "mut "]),
                    self.leaf()
                )
            }
            9 if self.rng.chance(50) => {
                let e = self.expr(1);
                let p = self.pat(3, true);
                if self.rng.chance(50) {
                    format!("let {p} = {e};")
                } else {
                    format!("let {p} = {e} else {{ return Err(e); }};")
                }
            }
            9 => {
                let a = self.new_local();
                let b = self.new_local();
                self.rng
                    .pick(&[
                        "let S { a: {a}, .. } = s;",
                        "let [{a}, {b}] = arr;",
                        "let _ = {a};",
                        "let P({a}, {b}) = p;",
                        "let {a} @ 1..=3 = k;",
                        "let &{a} = r;",
                        "let ({a}, ..) = t;",
                        "let Ok({a}) | Err({a}) = r;",
                    ])
                    .replace("{a}", &a)
                    .replace("{b}", &b)
            }
            _ => {
                let e = self.cond(2);
                let y = self.new_local();
                let els = match self.rng.below(4) {
                    0 => "return Ok(IOResult::Done(0));".to_string(),
                    1 if !self.loops.is_empty() => "continue;".to_string(),
                    2 => "panic!(\"none\")".to_string(),
                    _ => format!("{} return Err(e);", self.stmts(1)),
                };
                format!("let Some({y}) = {e} else {{ {els} }};")
            }
        }
    }

    fn stmt(&mut self) -> String {
        if self.budget == 0 {
            return format!("{};", self.leaf());
        }
        self.budget -= 1;
        let deep = self.depth >= 4;
        let kind = self.rng.weighted(&[
            (18, "let"),
            (18, "marker"),
            (if self.clean { 0 } else { 5 }, "bad_marker"),
            (6, "assign"),
            (if deep { 0 } else { 7 }, "if"),
            (if deep { 0 } else { 4 }, "if_let"),
            (if deep { 0 } else { 6 }, "match"),
            (if deep { 0 } else { 9 }, "loop"),
            (4, "break"),
            (2, "return"),
            (2, "try"),
            (2, "closure"),
            (if deep { 0 } else { 3 }, "block"),
            (if deep { 0 } else { 2 }, "unsafe"),
            (3, "method"),
            (4, "macro"),
            (2, "item"),
            (1, "empty"),
        ]);
        match kind {
            "let" => self.let_stmt(),
            "marker" => self.marker_stmt(),
            "bad_marker" => self.bad_marker_stmt(),
            "assign" => {
                let op = self.rng.pick(&["=", "=", "+=", "-=", "*=", "^="]);
                let place = match self.rng.below(4) {
                    0 => "self.total".to_string(),
                    1 => "*p".to_string(),
                    2 => "v[0]".to_string(),
                    _ => self.leaf(),
                };
                format!("{place} {op} {};", self.expr(2))
            }
            "if" => {
                let mut s = format!("if {} {}", self.cond(2), self.block(3));
                if self.rng.chance(40) {
                    s += &format!(" else if {} {}", self.cond(1), self.block(2));
                }
                if self.rng.chance(50) {
                    s += &format!(" else {}", self.block(3));
                }
                s
            }
            "if_let" => {
                let scope = self.names.len();
                let y = if self.rng.chance(30) {
                    self.pat(2, false)
                } else {
                    self.new_local()
                };
                let chain = if self.rng.chance(20) {
                    format!(" && {}", self.expr(1))
                } else {
                    String::new()
                };
                let head = format!("if let Some({y}) = {}{chain}", self.cond(1));
                let then = self.block(3);
                self.names.truncate(scope);
                let els = if self.rng.chance(50) {
                    format!(" else {}", self.block(2))
                } else {
                    String::new()
                };
                format!("{head} {then}{els}")
            }
            "match" => {
                let scrutinee = self.cond(2);
                let mut arms = Vec::new();
                for _ in 0..1 + self.rng.below(3) {
                    let scope = self.names.len();
                    let pat = match self.rng.below(6) {
                        0 => "0".to_string(),
                        1 => format!("Some({})", self.new_local()),
                        2 => format!("{} @ 1..=9", self.new_local()),
                        3 => "None | Some(0)".to_string(),
                        4 => self.pat(3, true),
                        _ => self.new_local(),
                    };
                    let guard = if self.rng.chance(30) {
                        format!(" if {}", self.expr(1))
                    } else {
                        String::new()
                    };
                    let body = match self.rng.below(3) {
                        0 => format!("{},", self.expr(2)),
                        1 => format!("{},", self.marker()),
                        _ => self.block(2),
                    };
                    self.names.truncate(scope);
                    arms.push(format!("{pat}{guard} => {body}"));
                }
                if self.rng.chance(70) {
                    arms.push(format!("_ => {}", self.block(1)));
                }
                format!("match {scrutinee} {{ {} }}", arms.join(" "))
            }
            "loop" => self.loop_stmt(),
            "break" => self.break_or_continue(),
            "return" => self
                .rng
                .pick(&[
                    "return Ok(IOResult::Done(0));",
                    "return Err(e);",
                    "return Err(Error::from(x));",
                    "return;",
                ])
                .into(),
            "try" => {
                let n = self.new_local();
                if self.rng.chance(50) {
                    format!("let {n}: u32 = {}?;", self.expr(1))
                } else {
                    format!("{}?;", self.expr(1))
                }
            }
            "closure" => {
                let body = self.block(2);
                let n = self.new_local();
                format!(
                    "let {n} = {}|a: u32| {body};",
                    self.rng.pick(&["", "move "])
                )
            }
            "block" => {
                if self.rng.chance(70) {
                    self.block(3)
                } else {
                    let l = format!("'b{}", self.fresh());
                    let b = self.stmts(2);
                    format!("{l}: {{ {b} if {} {{ break {l}; }} }}", self.cond(1))
                }
            }
            "unsafe" => format!("unsafe {}", self.block(2)),
            "method" => format!(
                "{}.{}({});",
                self.leaf(),
                self.rng
                    .pick(&["push", "clear", "extend", "insert", "io", "sync", "set_len"]),
                self.expr(1)
            ),
            "macro" => match self.rng.below(6) {
                0 => format!("println!(\"{{}} {{x}}\", {});", self.expr(1)),
                1 => {
                    let n = self.new_local();
                    format!("let {n} = vec![1, 2, {}];", self.expr(1))
                }
                2 => format!("assert!({});", self.expr(1)),
                3 => format!("debug_assert_eq!({}, {});", self.leaf(), self.leaf()),
                4 => "write!(f, \"x\")?;".to_string(),
                _ => format!("my_macro! {{ {} }}", self.expr(1)),
            },
            "item" => self
                .rng
                .pick(&[
                    "fn helper(x: u32) -> u32 { x }",
                    "struct Local;",
                    "const K: u32 = 3;",
                    "use std::mem::swap;",
                    "impl X { fn g() {} }",
                    "macro_rules! m { () => {} }",
                    "#[derive(Debug)] enum E { A }",
                    "static S: u8 = 0;",
                ])
                .into(),
            _ => ";".into(),
        }
    }

    /// Up to `n` statements (fewer when the budget runs out).
    fn stmts(&mut self, n: usize) -> String {
        let count = self.rng.below(n + 1);
        let mut out = Vec::new();
        for _ in 0..count {
            out.push(self.stmt());
        }
        out.join(" ")
    }

    /// A block with up to `n` statements and maybe a tail.
    fn block(&mut self, n: usize) -> String {
        self.depth += 1;
        let scope = self.names.len();
        let stmts = self.stmts(n);
        let tail = match self.rng.below(10) {
            0 | 1 => self.expr(1),
            2 => self.marker(),
            _ => String::new(),
        };
        self.names.truncate(scope);
        self.depth -= 1;
        format!("{{ {stmts} {tail} }}")
    }

    /// The function body.
    fn body(&mut self) -> String {
        self.budget = 4 + self.rng.below(28);
        let top = 1 + self.rng.below(10);
        let mut stmts = Vec::new();
        for _ in 0..top {
            stmts.push(self.stmt());
        }
        let inner = if self.odd(3) { "#![allow(unused)]" } else { "" };
        let tail = match self.rng.below(25) {
            0..=19 => format!("Ok(IOResult::Done({}))", self.expr(1)),
            20 => String::new(),
            21 => self.marker(),
            22 => "return Ok(IOResult::Done(1));".into(),
            23 => "loop {}".into(),
            _ => "todo!()".into(),
        };
        format!("{{ {inner} {} {tail} }}", stmts.join(" "))
    }

    fn generics(&mut self) -> String {
        if self.rng.chance(75) {
            return String::new();
        }
        let g = self.rng.pick(&[
            "<T>",
            "<T: Clone>",
            "<'a>",
            "<'a, T: 'a>",
            "<const N: usize>",
            "<T, U>",
        ]);
        if g.contains('T') {
            self.generic = true;
        }
        g.into()
    }

    fn return_type(&mut self) -> String {
        if !self.odd(12) {
            let t = self.rng.pick(&[
                "Result<IOResult<u32>>",
                "Result<IOResult<()>, Error>",
                "io_model::Result<IOResult<u64>>",
                "DbResult<IOResult<String>>",
                "std::result::Result<IOResult<Vec<u8>>, MyError>",
                "Result<io_model::IOResult<bool>, E>",
                "Result<IOResult<T>>",
                "Result<IOResult<Self>>",
                "Result<IOResult<&'a [u8]>>",
            ]);
            format!(" -> {t}")
        } else {
            self.rng
                .pick(&[
                    "",
                    " -> u32",
                    " -> Result<u32>",
                    " -> IOResult<u32>",
                    " -> impl Future<Output = u32>",
                    " -> Result<Option<IOResult<u32>>>",
                    " -> Self",
                    " -> Result<IOResult<u32>",
                    " -> Result<IOResult>",
                    " -> Result<'a, IOResult<u32>>",
                    " -> Result",
                    " -> !",
                ])
                .into()
        }
    }

    fn qualifiers(&mut self) -> String {
        let mut q = String::new();
        if self.clean {
            return q;
        }
        if self.rng.chance(2) {
            q += "const ";
        }
        if self.rng.chance(3) {
            q += "async ";
        }
        if self.rng.chance(2) {
            q += "unsafe ";
        }
        if self.rng.chance(1) {
            q += "extern \"C\" ";
        }
        q
    }

    /// Other parameters, also brought into scope.
    fn params(&mut self) -> Vec<String> {
        let pool: &[&str] = &[
            "c: Completion",
            "d: Completion",
            "cs: Vec<Completion>",
            "n: u32",
            "s: &Sched",
            "v: Vec<u8>",
            "p: &mut Pager",
            "k: usize",
            "opt: Option<u32>",
            "it: std::vec::IntoIter<u32>",
            "(a, b): (u32, u32)",
            "_: u8",
            "mut m: u64",
            "children: &[u32]",
            "x: T",
            "f: impl Fn() -> u32",
        ];
        let mut out = Vec::new();
        for _ in 0..self.rng.below(5) {
            let p = self.rng.pick(pool);
            if p.starts_with("x: T") && !self.generic {
                continue;
            }
            for name in [
                "c", "d", "cs", "n", "s", "v", "p", "k", "opt", "it", "a", "b", "m", "children",
                "x", "f",
            ] {
                if p.starts_with(&format!("{name}:")) || p.starts_with(&format!("mut {name}:")) {
                    self.names.push(name.into());
                }
            }
            out.push(p.to_string());
        }
        out
    }

    fn fn_attrs(&mut self) -> String {
        if self.rng.chance(88) {
            return String::new();
        }
        self.rng
            .pick(&[
                "#[inline]",
                "#[doc = \"docs\"]",
                "/// doc comment\n",
                "#[cfg(test)]",
                "#[allow(unused)]",
                "#[must_use]",
                "#[resumable(state = st)]",
            ])
            .into()
    }

    fn fn_name(&mut self) -> String {
        if self.clean || self.rng.chance(70) {
            let n = self
                .rng
                .pick(&["read_two", "count_down", "commit", "step", "fetch_page"]);
            return n.into();
        }
        self.rng.pick(FN_NAMES).into()
    }

    /// `(attribute arguments, free function)`.
    fn free_fn(&mut self) -> (String, String) {
        let name = self.fn_name();
        let sp = if self.clean || self.rng.chance(85) {
            "st"
        } else {
            self.rng.pick(&["state", "s0", "io"])
        };
        let named = self.rng.chance(8);
        let enum_name = if named && self.clean {
            self.rng.pick(&["RState", "Machine", "r#Foo"]).to_string()
        } else if named {
            self.rng
                .pick(&["RState", "Machine", "Idle", "r#Foo", "Self", "self"])
                .to_string()
        } else {
            state_enum_name(&name)
        };
        // The transform's own enum name is then not an identifier (a known
        // failure); the state parameter still needs a type that lexes.
        let enum_name = lexable(enum_name);
        let good = format!("state = {sp}");
        let attr = if named || self.clean {
            format!("state = {sp}, name = {enum_name}")
        } else {
            let t = self.rng.weighted(&[
                (80, "{good}"),
                (2, ""),
                (1, "state"),
                (1, "state = "),
                (2, "state = self.st"),
                (2, "state = n"),
                (1, "state = nope"),
                (1, "{good}, {good}"),
                (1, "name = X"),
                (1, "name = a::b"),
                (1, "{good}, name = crate"),
                (1, "colour = red, {good}"),
                (1, "{good},"),
                (1, "state = 1"),
                (1, "{good} name = X"),
                (1, "= st"),
                (1, "state = (st)"),
                (1, "state = *st"),
                (1, "state = st.0"),
                (1, "{good}, name = super"),
                (1, "state = self"),
            ]);
            t.replace("{good}", &good)
        };
        let generics = self.generics();
        let mut params = self.params();
        if !self.odd(7) {
            let ty = if !self.odd(15) {
                format!("&mut {enum_name}")
            } else {
                self.rng
                    .pick(&[
                        "&{E}",
                        "{E}",
                        "&mut Other",
                        "&mut {E}<T>",
                        "&'a mut {E}",
                        "&mut crate::{E}",
                        "Box<{E}>",
                        "&mut &mut {E}",
                        "&mut _",
                    ])
                    .replace("{E}", &enum_name)
            };
            let pat = self
                .rng
                .weighted(&[(90, ""), (5, "mut "), (2, "ref "), (3, "_")]);
            let pat = if self.clean && pat != "mut " { "" } else { pat };
            let param = if pat == "_" {
                format!("_: {ty}")
            } else {
                format!("{pat}{sp}: {ty}")
            };
            let at = if self.rng.chance(80) {
                0
            } else {
                self.rng.below(params.len() + 1)
            };
            params.insert(at, param);
        }
        if self.odd(2) {
            params.insert(0, self.rng.pick(&["&mut self", "self", "&self"]).into());
        }
        let ret = self.return_type();
        let where_ = if self.rng.chance(5) {
            if self.generic {
                " where T: Copy"
            } else {
                " where Self: Sized"
            }
        } else {
            ""
        };
        let vis = self.rng.weighted(&[
            (70, ""),
            (20, "pub "),
            (5, "pub(crate) "),
            (5, "pub(super) "),
        ]);
        let attrs = self.fn_attrs();
        let qual = self.qualifiers();
        let body = self.body();
        let item = format!(
            "{attrs} {vis}{qual}fn {name}{generics}({}){ret}{where_} {body}",
            params.join(", ")
        );
        (attr, item)
    }

    fn method(&mut self) -> String {
        let name = self.fn_name();
        let named = self.rng.chance(5);
        let enum_name = if named {
            "MState".to_string()
        } else {
            lexable(state_enum_name(&name))
        };
        let field = if self.clean {
            self.rng.pick(&["self.st", "self.io.read", "self.0", "st"])
        } else {
            self.rng.weighted(&[
                (70, "self.st"),
                (6, "self.io.read"),
                (5, "self.0"),
                (4, "self.st.inner"),
                (3, "self.r#type"),
                (4, "st"),
                (2, "self"),
                (2, "self.st()"),
                (2, "other.st"),
                (2, "(self).st"),
            ])
        };
        let args = if named {
            format!("state = {field}, name = MState")
        } else {
            format!("state = {field}")
        };
        let attr = self.rng.weighted(&[
            (84, "#[resumable({args})]"),
            (4, "#[io_model::resumable({args})]"),
            (2, "#[resumable]"),
            (1, "#[resumable = \"st\"]"),
            (1, "#[resumable()]"),
            (1, "#[resumable({args}, state = self.x)]"),
            (1, "#[resumable(colour = red)]"),
            (1, "#[other::resumable({args})]"),
            (2, "#[resumable({args})] #[resumable({args})]"),
            (2, "#[inline] #[resumable({args})]"),
            (1, "#[resumable({args})] /// doc\n"),
        ]);
        let attr = if self.clean {
            "#[resumable({args})]"
        } else {
            attr
        };
        let attr = attr.replace("{args}", &args);
        let receiver = self.rng.weighted(&[
            (80, "&mut self"),
            (4, "&self"),
            (3, "self"),
            (2, "mut self"),
            (3, "self: &mut Self"),
            (2, "self: Box<Self>"),
            (2, "&'a mut self"),
            (3, ""),
            (1, "self: Pin<&mut Self>"),
        ]);
        let receiver = if self.clean {
            self.rng.pick(&["&mut self", "self: &mut Self"])
        } else {
            receiver
        };
        let generics = self.generics();
        self.names.clear();
        let mut params = self.params();
        if field == "st" {
            params.insert(0, format!("st: &mut {enum_name}"));
        }
        if !receiver.is_empty() {
            params.insert(0, receiver.into());
        }
        let ret = self.return_type();
        let qual = self.qualifiers();
        let vis = self.rng.weighted(&[(80, ""), (20, "pub ")]);
        self.labels.clear();
        let body = self.body();
        format!(
            "{attr} {vis}{qual}fn {name}{generics}({}){ret} {body}",
            params.join(", ")
        )
    }

    /// `(attribute arguments, impl block)`.
    fn impl_block(&mut self) -> (String, String) {
        let attr = self.rng.weighted(&[
            (92, ""),
            (4, "state = self.st"),
            (2, "state = st"),
            (2, "x"),
        ]);
        let attr = if self.clean { "" } else { attr };
        let generics = self.generics();
        let self_ty = if self.generic {
            self.rng.pick(&["Db<T>", "Reader"])
        } else {
            self.rng.weighted(&[
                (70, "Reader"),
                (10, "Pager"),
                (5, "Wrapper<'a>"),
                (3, "(u8, u8)"),
                (3, "[u8; 4]"),
                (3, "dyn Trait"),
                (3, "&'a mut Reader"),
                (3, "io::Db"),
            ])
        };
        let trait_ = self.rng.weighted(&[
            (85, ""),
            (8, "Trait for "),
            (4, "io::Read for "),
            (3, "!Send for "),
        ]);
        let unsafety = if self.rng.chance(3) { "unsafe " } else { "" };
        let inner = if self.odd(3) {
            "#![allow(dead_code)]"
        } else {
            ""
        };
        let mut items = Vec::new();
        for _ in 0..1 + self.rng.below(3) {
            let it = self.rng.weighted(&[
                (72, "method"),
                (12, "fn helper(&self) -> u32 { 1 }"),
                (5, "const K: u32 = 1;"),
                (3, "type Item = u8;"),
                (2, "my_items!();"),
                (2, "fn decl(&mut self);"),
                (2, "#[resumable(state = self.st)] const X: u8 = 0;"),
                (
                    2,
                    "#[resumable(state = self.st)] fn decl2(&mut self) -> Result<IOResult<u8>>;",
                ),
            ]);
            items.push(if it == "method" {
                self.method()
            } else {
                it.to_string()
            });
        }
        let item = format!(
            "{unsafety}impl{generics} {trait_}{self_ty} {{ {inner} {} }}",
            items.join("\n")
        );
        (attr.into(), item)
    }

    /// `(attribute arguments, item)` of one input.
    fn input(&mut self) -> (String, String) {
        match self.rng.below(if self.clean { 97 } else { 100 }) {
            0..=62 => self.free_fn(),
            63..=96 => self.impl_block(),
            _ => {
                let item = self.rng.pick(&[
                    "struct S;",
                    "enum E { A }",
                    "trait T { #[resumable(state = self.st)] fn f(&mut self) -> Result<IOResult<()>> { wait!(c); Ok(IOResult::Done(())) } }",
                    "mod m { fn f(st: &mut FState) -> Result<IOResult<()>> { wait!(c); Ok(IOResult::Done(())) } }",
                    "static X: u8 = 0;",
                    "extern \"C\" { fn f(); }",
                    "impl X {}",
                    "macro_rules! m { () => {} }",
                    "fn f(st: &mut FState) -> Result<IOResult<()>>;",
                    "type A = u8;",
                    "use a::b;",
                    "",
                ]);
                ("state = st".into(), item.into())
            }
        }
    }
}

// ----- mutation on the syntax tree -----

/// An edit of one node.
type Edit<T> = Box<dyn FnOnce(&mut T)>;

/// Applies `f` to the `n`th node of type `T` (in visit order), or counts
/// the nodes when `f` is `None`.
struct EditNth<T> {
    n: usize,
    seen: usize,
    f: Option<Edit<T>>,
}

impl<T> EditNth<T> {
    fn hit(&mut self, node: &mut T) -> bool {
        let hit = self.seen == self.n;
        self.seen += 1;
        if hit {
            if let Some(f) = self.f.take() {
                f(node);
                return true;
            }
        }
        false
    }
}

macro_rules! edit_nth_visitor {
    ($ty:ty, $method:ident, $walk:path) => {
        impl VisitMut for EditNth<$ty> {
            fn $method(&mut self, node: &mut $ty) {
                if !self.hit(node) {
                    $walk(self, node);
                }
            }
        }
    };
}

edit_nth_visitor!(syn::Block, visit_block_mut, visit_mut::visit_block_mut);
edit_nth_visitor!(syn::Expr, visit_expr_mut, visit_mut::visit_expr_mut);
edit_nth_visitor!(syn::Type, visit_type_mut, visit_mut::visit_type_mut);
edit_nth_visitor!(
    syn::PatIdent,
    visit_pat_ident_mut,
    visit_mut::visit_pat_ident_mut
);
edit_nth_visitor!(syn::Macro, visit_macro_mut, visit_mut::visit_macro_mut);
edit_nth_visitor!(
    syn::Signature,
    visit_signature_mut,
    visit_mut::visit_signature_mut
);
edit_nth_visitor!(syn::Local, visit_local_mut, visit_mut::visit_local_mut);

fn count<T>(item: &mut syn::Item) -> usize
where
    EditNth<T>: VisitMut,
{
    let mut v = EditNth::<T> {
        n: usize::MAX,
        seen: 0,
        f: None,
    };
    v.visit_item_mut(item);
    v.seen
}

/// Applies `f` to a random node of type `T`; false when there is none.
fn edit_random<T: 'static>(
    rng: &mut Rng,
    item: &mut syn::Item,
    f: impl FnOnce(&mut T) + 'static,
) -> bool
where
    EditNth<T>: VisitMut,
{
    let total = count::<T>(item);
    if total == 0 {
        return false;
    }
    let mut v = EditNth::<T> {
        n: rng.below(total),
        seen: 0,
        f: Some(Box::new(f)),
    };
    v.visit_item_mut(item);
    true
}

fn is_marker(mac: &syn::Macro) -> bool {
    mac.path.segments.last().is_some_and(|s| {
        ["wait", "wait_all", "call", "yield_now"].contains(&s.ident.to_string().as_str())
    })
}

/// Re-parses `template` with `{}` replaced by the tokens of `node`.
fn rewrite<T: ToTokens + syn::parse::Parse>(node: &mut T, template: &str) {
    let text = template.replace("{}", &node.to_token_stream().to_string());
    if let Ok(new) = syn::parse_str::<T>(&text) {
        *node = new;
    }
}

/// Parses tokens printed from a (possibly mutated) tree; `None` when the
/// mutation made them unparsable.
fn reparse<T: syn::parse::Parse>(tokens: TokenStream) -> Option<T> {
    syn::parse2(tokens).ok()
}

/// Puts back the `;` of an expression statement that a mutation moved
/// away from a block's end (otherwise the block would not print as Rust).
fn fix_semis(b: &mut syn::Block) {
    let last = b.stmts.len().saturating_sub(1);
    for (i, s) in b.stmts.iter_mut().enumerate() {
        if let syn::Stmt::Expr(e, semi @ None) = s {
            let block_like = matches!(
                e,
                syn::Expr::If(_)
                    | syn::Expr::Match(_)
                    | syn::Expr::Loop(_)
                    | syn::Expr::While(_)
                    | syn::Expr::ForLoop(_)
                    | syn::Expr::Block(_)
                    | syn::Expr::Unsafe(_)
            );
            if i != last && !block_like {
                *semi = Some(Default::default());
            }
        }
    }
}

fn parse_stmts(text: &str) -> Vec<syn::Stmt> {
    syn::parse_str::<syn::Block>(&format!("{{ {text} }}"))
        .map(|b| b.stmts)
        .unwrap_or_default()
}

impl Gen {
    /// One random mutation of the syntax tree.
    fn mutate(&mut self, item: &mut syn::Item) {
        let r1 = self.rng.next_u64() as usize;
        let r2 = self.rng.next_u64() as usize;
        match self.rng.below(17) {
            0 | 1 => {
                edit_random(&mut self.rng, item, move |b: &mut syn::Block| {
                    if !b.stmts.is_empty() {
                        b.stmts.remove(r1 % b.stmts.len());
                    }
                });
            }
            2 => {
                edit_random(&mut self.rng, item, move |b: &mut syn::Block| {
                    if !b.stmts.is_empty() {
                        let s = b.stmts[r1 % b.stmts.len()].clone();
                        b.stmts.insert(r2 % (b.stmts.len() + 1), s);
                        fix_semis(b);
                    }
                });
            }
            3 => {
                edit_random(&mut self.rng, item, move |b: &mut syn::Block| {
                    if b.stmts.len() >= 2 {
                        let (i, j) = (r1 % b.stmts.len(), r2 % b.stmts.len());
                        b.stmts.swap(i, j);
                        fix_semis(b);
                    }
                });
            }
            4 => {
                // Move a statement into another block.
                let taken: Rc<RefCell<Option<syn::Stmt>>> = Rc::default();
                let t = taken.clone();
                edit_random(&mut self.rng, item, move |b: &mut syn::Block| {
                    if !b.stmts.is_empty() {
                        *t.borrow_mut() = Some(b.stmts.remove(r1 % b.stmts.len()));
                    }
                });
                let stmt = taken.borrow_mut().take();
                if let Some(stmt) = stmt {
                    edit_random(&mut self.rng, item, move |b: &mut syn::Block| {
                        b.stmts.insert(r2 % (b.stmts.len() + 1), stmt);
                        fix_semis(b);
                    });
                }
            }
            5 => {
                let text = if self.rng.chance(75) {
                    self.marker_stmt()
                } else {
                    self.bad_marker_stmt()
                };
                let new = parse_stmts(&text);
                edit_random(&mut self.rng, item, move |b: &mut syn::Block| {
                    let at = r1 % (b.stmts.len() + 1);
                    for (k, s) in new.into_iter().enumerate() {
                        b.stmts.insert(at + k, s);
                    }
                    fix_semis(b);
                });
            }
            6 | 7 => {
                let template = self.rng.pick(&[
                    "f({})",
                    "(|| {})()",
                    "Some({})",
                    "{ {} }",
                    "({})",
                    "unsafe { {} }",
                    "loop { break {}; }",
                    "{}?",
                    "&{}",
                    "{}.clone()",
                    "async { {} }",
                    "if c { {} } else { {} }",
                    "match x { _ => {} }",
                    "move || {}",
                    "[{}]",
                    "({} as u32)",
                    "-{}",
                    "return {}",
                    "'w: loop { break 'w {}; }",
                    "{ let _t: u32 = 0; {} }",
                ]);
                edit_random(&mut self.rng, item, move |e: &mut syn::Expr| {
                    rewrite(e, template)
                });
            }
            8 => {
                // Move a marker into an operand of another expression.
                let taken: Rc<RefCell<Option<String>>> = Rc::default();
                let t = taken.clone();
                let n = {
                    let mut markers = 0;
                    struct CountMarkers<'a>(&'a mut usize);
                    impl VisitMut for CountMarkers<'_> {
                        fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
                            if is_marker(m) {
                                *self.0 += 1;
                            }
                        }
                    }
                    CountMarkers(&mut markers).visit_item_mut(item);
                    markers
                };
                if n == 0 {
                    return;
                }
                let which = self.rng.below(n);
                struct TakeMarker {
                    which: usize,
                    seen: usize,
                    out: Rc<RefCell<Option<String>>>,
                }
                impl VisitMut for TakeMarker {
                    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
                        if is_marker(m) {
                            if self.seen == self.which {
                                *self.out.borrow_mut() = Some(m.to_token_stream().to_string());
                                *m = syn::parse_quote!(noop!());
                            }
                            self.seen += 1;
                        }
                    }
                }
                TakeMarker {
                    which,
                    seen: 0,
                    out: t,
                }
                .visit_item_mut(item);
                let Some(marker) = taken.borrow_mut().take() else {
                    return;
                };
                let template = self.rng.pick(&[
                    "{} + M",
                    "f({}, M)",
                    "{}.m(M)",
                    "(M, {})",
                    "[{}, M]",
                    "M == {}",
                    "{}[M]",
                    "P { a: {}, b: M }",
                    "&M",
                ]);
                let template = template.replace('M', &marker);
                edit_random(&mut self.rng, item, move |e: &mut syn::Expr| {
                    rewrite(e, &template)
                });
            }
            9 => {
                let m = self.marker();
                edit_random(&mut self.rng, item, move |e: &mut syn::Expr| {
                    if let Ok(new) = syn::parse_str(&m) {
                        *e = new;
                    }
                });
            }
            10 => {
                let template = self.rng.pick(&[
                    "_",
                    "&{}",
                    "&'a {}",
                    "&mut {}",
                    "impl Iterator<Item = u8>",
                    "T",
                    "Self",
                    "Vec<_>",
                    "Option<{}>",
                    "dyn Fn()",
                    "u32",
                    "[{}; 2]",
                    "fn() -> {}",
                    "({}, &'static str)",
                ]);
                edit_random(&mut self.rng, item, move |t: &mut syn::Type| {
                    rewrite(t, template)
                });
            }
            11 => {
                let label = self.rng.pick(&[
                    "Dup",
                    "Dup",
                    "lower",
                    "Idle",
                    "Wait0",
                    "Call0",
                    "Yield0",
                    "Bad_Label",
                    "Fresh",
                    "Poisoned",
                ]);
                struct Relabel {
                    which: usize,
                    seen: usize,
                    label: &'static str,
                }
                impl VisitMut for Relabel {
                    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
                        if !is_marker(m) {
                            return;
                        }
                        if self.seen == self.which || self.label == "Dup" {
                            let yield_ = m
                                .path
                                .segments
                                .last()
                                .is_some_and(|s| s.ident == "yield_now");
                            let tokens = m.tokens.to_string();
                            let operand = tokens.rsplit("=>").next().unwrap_or("").to_string();
                            let text = if yield_ {
                                self.label.to_string()
                            } else {
                                format!("{} => {operand}", self.label)
                            };
                            if let Ok(t) = TokenStream::from_str(&text) {
                                m.tokens = t;
                            }
                        }
                        self.seen += 1;
                    }
                }
                Relabel {
                    which: r1 % 4,
                    seen: 0,
                    label,
                }
                .visit_item_mut(item);
            }
            12 => {
                let name = self.rng.pick(&[
                    "st", "c", "r#type", "x", "Upper", "r#match", "self_", "n", "__io_b0", "sum",
                ]);
                edit_random(&mut self.rng, item, move |p: &mut syn::PatIdent| {
                    if let Ok(id) = syn::parse_str::<syn::Ident>(name) {
                        p.ident = id;
                    } else {
                        p.ident =
                            syn::Ident::new_raw(name.trim_start_matches("r#"), p.ident.span());
                    }
                });
            }
            13 => {
                edit_random(&mut self.rng, item, move |e: &mut syn::Expr| match e {
                    syn::Expr::Loop(l) => {
                        let body = &l.body;
                        let label = &l.label;
                        if let Some(new) = reparse(quote::quote!(#label while true #body)) {
                            *e = new;
                        }
                    }
                    syn::Expr::While(w) => {
                        let body = &w.body;
                        let label = &w.label;
                        if let Some(new) = reparse(quote::quote!(#label loop #body)) {
                            *e = new;
                        }
                    }
                    syn::Expr::ForLoop(f) => {
                        let body = &f.body;
                        let pat = &f.pat;
                        let label = &f.label;
                        if let Some(new) =
                            reparse(quote::quote!(#label while let Some(#pat) = it.next() #body))
                        {
                            *e = new;
                        }
                    }
                    syn::Expr::If(i) => {
                        let then = &i.then_branch;
                        if let Some(new) =
                            reparse(quote::quote!(loop { if c #then else { break; } }))
                        {
                            *e = new;
                        }
                    }
                    _ => {}
                });
            }
            14 => {
                let r = self.rng.below(5);
                edit_random(&mut self.rng, item, move |l: &mut syn::Local| match r {
                    0 => {
                        if let Some(init) = &mut l.init {
                            if init.diverge.is_some() {
                                init.diverge = None;
                            } else {
                                init.diverge = Some((
                                    Default::default(),
                                    Box::new(syn::parse_quote!({
                                        return Err(e);
                                    })),
                                ));
                            }
                        }
                    }
                    1 => l.init = None,
                    2 => {
                        if let syn::Pat::Type(t) = &l.pat {
                            l.pat = (*t.pat).clone();
                        }
                    }
                    3 => {
                        let pat = &l.pat;
                        if let Ok(p) = syn::parse_str::<syn::PatType>(&format!(
                            "{}: u64",
                            pat.to_token_stream()
                        )) {
                            l.pat = syn::Pat::Type(p);
                        }
                    }
                    _ => {
                        if let Some(init) = &mut l.init {
                            *init.expr = syn::parse_quote!(call!(op()));
                        }
                    }
                });
            }
            15 => {
                let r = self.rng.below(8);
                edit_random(&mut self.rng, item, move |s: &mut syn::Signature| match r {
                    0 => s.asyncness = s.asyncness.is_none().then(Default::default),
                    1 => s.constness = s.constness.is_none().then(Default::default),
                    2 => s.output = syn::ReturnType::Default,
                    3 => s.output = syn::parse_quote!(-> Result<IOResult<T>>),
                    4 => s.generics = syn::parse_quote!(<'a, T: Clone>),
                    5 => {
                        let rest: Vec<syn::FnArg> = s.inputs.iter().skip(1).cloned().collect();
                        s.inputs = rest.into_iter().collect();
                    }
                    6 => {
                        let recv: syn::FnArg = syn::parse_quote!(&self);
                        s.inputs.insert(0, recv);
                    }
                    _ => {
                        let ident = syn::Ident::new("_0", s.ident.span());
                        s.ident = ident;
                    }
                });
            }
            _ => {
                // Nest a block's statements in a loop or an `if`.
                let wrap = self.rng.pick(&[
                    "'w: loop { {} break 'w; }",
                    "if c { {} }",
                    "{ {} }",
                    "while go { {} }",
                    "for i in 0..3usize { {} }",
                    "match k { 0 => { {} } _ => {} }",
                ]);
                edit_random(&mut self.rng, item, move |b: &mut syn::Block| {
                    let inner: String = b
                        .stmts
                        .iter()
                        .map(|s| s.to_token_stream().to_string())
                        .collect::<Vec<_>>()
                        .join(" ");
                    let stmts = parse_stmts(&wrap.replace("{}", &inner));
                    if !stmts.is_empty() {
                        b.stmts = stmts;
                    }
                });
            }
        }
    }

    /// One token-level mutation: drop, duplicate, or insert after a random
    /// token (groups are kept balanced).
    fn mutate_tokens(&mut self, tokens: TokenStream) -> TokenStream {
        fn leaves(ts: &TokenStream) -> usize {
            ts.clone()
                .into_iter()
                .map(|t| match t {
                    TokenTree::Group(g) => 1 + leaves(&g.stream()),
                    _ => 1,
                })
                .sum()
        }
        fn edit(ts: TokenStream, target: usize, seen: &mut usize, op: usize) -> TokenStream {
            let mut out = Vec::new();
            for t in ts {
                let here = *seen == target;
                *seen += 1;
                let t = match t {
                    TokenTree::Group(g) => {
                        let inner = edit(g.stream(), target, seen, op);
                        let mut ng = Group::new(g.delimiter(), inner);
                        ng.set_span(g.span());
                        TokenTree::Group(ng)
                    }
                    other => other,
                };
                if here {
                    match op {
                        0 => continue,
                        1 => {
                            out.push(t.clone());
                            out.push(t);
                        }
                        _ => {
                            out.push(t);
                            let extra = [
                                "?",
                                ";",
                                ",",
                                "!",
                                "=>",
                                "mut",
                                "'a",
                                "async",
                                "wait!(c)",
                                "yield_now!()",
                            ][op % 10];
                            out.extend(TokenStream::from_str(extra).expect("fixed tokens"));
                        }
                    }
                } else {
                    out.push(t);
                }
            }
            out.into_iter().collect()
        }
        let total = leaves(&tokens);
        let target = self.rng.below(total);
        let op = self.rng.below(12);
        edit(tokens, target, &mut 0, op)
    }
}

// ----- the run -----

/// One generated input.
struct Case {
    attr: TokenStream,
    tokens: TokenStream,
    item: Option<syn::Item>,
    mutated: bool,
}

fn make_case(seed: u64) -> Option<Case> {
    let mut g = Gen::new(seed);
    g.clean = g.rng.chance(35);
    let (attr_text, item_text) = g.input();
    let attr = TokenStream::from_str(&attr_text).ok()?;
    let mut item: Option<syn::Item> = syn::parse_str(&item_text).ok();
    let mut tokens = match &item {
        Some(it) => it.to_token_stream(),
        None => TokenStream::from_str(&item_text).ok()?,
    };
    let mut mutated = false;
    if let Some(it) = &mut item {
        if g.rng.chance(if g.clean { 35 } else { 55 }) {
            mutated = true;
            for _ in 0..1 + g.rng.below(3) {
                g.mutate(it);
            }
            tokens = it.to_token_stream();
            if g.rng.chance(8) {
                tokens = g.mutate_tokens(tokens);
                item = syn::parse2(tokens.clone()).ok();
            }
        }
    }
    Some(Case {
        attr,
        tokens,
        item,
        mutated,
    })
}

/// A failure with the smallest input seen for it (by its case seed: the
/// generator is deterministic, so the case is made again for the report).
#[derive(Clone)]
struct Found {
    failure: Failure,
    seed: u64,
    /// Length of the input's tokens as text.
    len: usize,
    hits: usize,
}

#[derive(Default)]
struct Stats {
    cases: usize,
    ok: usize,
    err: usize,
    mutated: usize,
    unparsed_items: usize,
    unlexed: usize,
    fallback_unparsable: usize,
    fallback_example: Option<String>,
    fallback_kinds: BTreeMap<String, usize>,
    errors: BTreeMap<String, usize>,
    known: BTreeMap<&'static str, usize>,
    found: BTreeMap<String, Found>,
    /// The slowest case: (time, seed). Reported, never asserted.
    slowest: (std::time::Duration, u64),
}

impl Stats {
    fn merge(&mut self, o: Stats) {
        self.cases += o.cases;
        self.ok += o.ok;
        self.err += o.err;
        self.mutated += o.mutated;
        self.unparsed_items += o.unparsed_items;
        self.unlexed += o.unlexed;
        self.fallback_unparsable += o.fallback_unparsable;
        self.slowest = self.slowest.max(o.slowest);
        if self.fallback_example.is_none() {
            self.fallback_example = o.fallback_example;
        }
        for (k, v) in o.fallback_kinds {
            *self.fallback_kinds.entry(k).or_default() += v;
        }
        for (k, v) in o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for (k, v) in o.known {
            *self.known.entry(k).or_default() += v;
        }
        for (k, f) in o.found {
            match self.found.get_mut(&k) {
                Some(mine) => {
                    mine.hits += f.hits;
                    if f.len < mine.len {
                        let hits = mine.hits;
                        *mine = Found { hits, ..f };
                    }
                }
                None => {
                    self.found.insert(k, f);
                }
            }
        }
    }
}

/// The kind of an error message, for the histogram: its start, with the
/// names in backticks blanked.
fn error_kind(msg: &str) -> String {
    let mut out = String::new();
    let mut in_tick = false;
    for c in msg.chars().take(70) {
        if c == '`' {
            in_tick = !in_tick;
            out.push_str(if in_tick { "`.." } else { "`" });
        } else if !in_tick {
            out.push(c);
        }
    }
    out
}

fn run_one(seed: u64, stats: &mut Stats) {
    let Some(case) = make_case(seed) else {
        stats.unlexed += 1;
        return;
    };
    stats.cases += 1;
    stats.mutated += usize::from(case.mutated);
    stats.unparsed_items += usize::from(case.item.is_none());
    let start = std::time::Instant::now();
    let checked = check(&case.attr, &case.tokens);
    stats.slowest = stats.slowest.max((start.elapsed(), seed));
    if let Some(e) = checked.fallback_unparsable {
        stats.fallback_unparsable += 1;
        *stats.fallback_kinds.entry(error_kind(&e)).or_default() += 1;
        if stats.fallback_example.is_none() {
            stats.fallback_example = Some(format!("{e}\n{}", pretty(&case.attr, &case.tokens)));
        }
    }
    match checked.result {
        Ok(Ok(())) => stats.ok += 1,
        Ok(Err(msg)) => {
            stats.err += 1;
            *stats.errors.entry(error_kind(&msg)).or_default() += 1;
        }
        Err(failure) => {
            let input = format!("{} {}", case.attr, case.tokens);
            if let Some(k) = known(&failure, &input) {
                *stats.known.entry(k.name).or_default() += 1;
                if !strict() {
                    return;
                }
            }
            let sig = failure.signature();
            let len = case.tokens.to_string().len();
            let entry = stats.found.entry(sig).or_insert_with(|| Found {
                failure: failure.clone(),
                seed,
                len,
                hits: 0,
            });
            entry.hits += 1;
            if len < entry.len {
                let hits = entry.hits;
                *entry = Found {
                    failure,
                    seed,
                    len,
                    hits,
                };
            }
        }
    }
}

/// The report of one failure: the case made again from its seed, shrunk.
fn describe(sig: &str, f: &Found) -> String {
    let Some(case) = make_case(f.seed) else {
        return format!("\n=== case seed {:#x}: {}\n", f.seed, f.failure);
    };
    let item = match &case.item {
        Some(item) => shrink(&case.attr, item, sig, 3000).to_token_stream(),
        None => case.tokens.clone(),
    };
    let shown = match check(&case.attr, &item).result {
        Err(failure) => failure,
        Ok(_) => f.failure.clone(),
    };
    format!(
        "\n=== {} cases; case seed {:#x} (replay: IO_MODEL_FUZZ_CASE={:#x})\n{shown}\n\
         input (shrunk):\n{}\n",
        f.hits,
        f.seed,
        f.seed,
        pretty(&case.attr, &item)
    )
}

fn parse_seed(v: &str) -> u64 {
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    parsed.unwrap_or_else(|_| panic!("not a seed: {v:?}"))
}

#[test]
fn the_expander_never_panics_on_generated_bodies() {
    let iters = env_usize("IO_MODEL_FUZZ_ITERS", DEFAULT_ITERS);
    let base = std::env::var("IO_MODEL_FUZZ_SEED")
        .map(|v| parse_seed(&v))
        .unwrap_or(DEFAULT_SEED);
    let only = std::env::var("IO_MODEL_FUZZ_CASE")
        .ok()
        .map(|v| parse_seed(&v));
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let mut stats = Stats::default();
    if let Some(seed) = only {
        stats = support::with_big_stack(move || {
            let mut s = Stats::default();
            run_one(seed, &mut s);
            s
        });
    } else {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                std::thread::Builder::new()
                    .stack_size(256 << 20)
                    .spawn(move || {
                        let mut s = Stats::default();
                        for i in (w..iters).step_by(workers) {
                            run_one(case_seed(base, i), &mut s);
                        }
                        s
                    })
                    .expect("spawn a worker")
            })
            .collect();
        for h in handles {
            stats.merge(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
    }

    println!(
        "generated_bodies: {} cases (base seed {base:#x}): {} Ok, {} Err; {} mutated, {} not \
         parsable as an item before expansion, {} not lexable (skipped)",
        stats.cases, stats.ok, stats.err, stats.mutated, stats.unparsed_items, stats.unlexed
    );
    println!(
        "slowest case: {:?} (IO_MODEL_FUZZ_CASE={:#x})",
        stats.slowest.0, stats.slowest.1
    );
    let mut kinds: Vec<_> = stats.errors.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1));
    println!("most frequent errors:");
    for (k, n) in kinds.iter().take(15) {
        println!("  {n:6}  {k}");
    }
    println!("{} distinct error kinds", kinds.len());
    if stats.fallback_unparsable > 0 {
        println!(
            "note: expand_or_fallback's output did not parse as a file in {} cases; first:\n{}",
            stats.fallback_unparsable,
            stats.fallback_example.as_deref().unwrap_or("")
        );
        for (k, n) in &stats.fallback_kinds {
            println!("  {n:6}  {k}");
        }
    }
    for (name, n) in &stats.known {
        let test = support::KNOWN
            .iter()
            .find(|k| k.name == *name)
            .map_or("", |k| k.regression_test);
        println!("known failure, {n} cases (reproduced by {test}): {name}");
    }

    let found: Vec<(String, Found)> = stats.found.clone().into_iter().collect();
    let report = support::with_big_stack(move || {
        found
            .iter()
            .map(|(sig, f)| describe(sig, f))
            .collect::<String>()
    });
    assert!(
        stats.found.is_empty(),
        "the expander failed on {} distinct inputs:{report}",
        stats.found.len()
    );
    if only.is_none() && stats.cases >= 500 {
        // The generator must keep reaching the code generator, not only
        // the error paths.
        assert!(
            stats.ok * 50 >= stats.cases && stats.err * 50 >= stats.cases,
            "the generated inputs lost variety: {} Ok, {} Err of {}",
            stats.ok,
            stats.err,
            stats.cases
        );
    }
}

// ----- failures found, kept as regression cases -----

/// Expands one input, failing with the input and what happened on a panic
/// or an unparsable `Ok` output.
fn assert_no_failure(attr: &str, item: &str) {
    let attr = TokenStream::from_str(attr).expect("attribute tokens");
    let item = TokenStream::from_str(item).expect("item tokens");
    let checked = {
        let (attr, item) = (attr.to_string(), item.to_string());
        support::with_big_stack(move || {
            let attr = TokenStream::from_str(&attr).expect("attribute tokens");
            let item = TokenStream::from_str(&item).expect("item tokens");
            check(&attr, &item).result.err().map(|f| f.to_string())
        })
    };
    if let Some(f) = checked {
        panic!("{f}\ninput:\n{}", pretty(&attr, &item));
    }
}

/// `pascal_case("_1x")` is `"1x"`, so the enum name `1xState` is not an
/// identifier and `Ident::new` panics (item.rs, `enum_name`), in `expand`
/// and again in `expand_or_fallback`.
///
/// Fixed: now an error asking for `name = ..`.
#[test]
fn regression_fn_name_starting_with_underscore_digit() {
    assert_no_failure(
        "state = st",
        "fn _1(st: &mut State) -> Result<IOResult<()>> { Ok(IOResult::Done(())) }",
    );
}

/// A stored local named with a raw identifier keeps the `r#` only in its
/// uses: `layout::field_name` strips it, so the variant gets a field named
/// `type`, and `parse_quote!` of the suspension code panics
/// (continuation.rs, `first_arrival`).
///
/// Fixed: the field is named `type_`.
#[test]
fn regression_stored_raw_keyword_local() {
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> { \
             let r#type: u32 = 1; wait!(c); Ok(IOResult::Done(r#type)) }",
    );
}

/// A `let` expression is accepted as a marker's operand and spliced into
/// generated code where `let` cannot stand: `match let x = c { .. }` for
/// `call!` (continuation.rs, `call_code`), `{ let Some(x) = c }` for the
/// analysis form of any marker that is not the resumed one
/// (continuation.rs, `first_arrival`); `parse_quote!` panics.
///
/// Fixed: a `let` operand is an error at the marker.
#[test]
fn regression_let_expression_as_marker_operand() {
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState) -> Result<IOResult<u32>> { \
             let x: u32 = call!(let y = c); Ok(IOResult::Done(x)) }",
    );
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState) -> Result<IOResult<u32>> { \
             yield_now!(); wait!(let Some(x) = c); Ok(IOResult::Done(1)) }",
    );
}

/// A `for` loop that holds a suspension point is rewritten with
/// `let #pat = match Iterator::next(..) { .. };` (normalize.rs); a `for`
/// pattern may be an or-pattern or start with `|`, which a `let` pattern
/// may not (for syn), so `parse_quote_spanned!` panics.
///
/// Fixed: the `let` of the rewritten loop parenthesizes the or-pattern.
#[test]
fn regression_for_loop_or_pattern() {
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> { \
             for Some(x) | None in it { wait!(c); } Ok(IOResult::Done(1)) }",
    );
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> { \
             for | x in it { wait!(c); } Ok(IOResult::Done(1)) }",
    );
}

/// In a loop that holds a suspension point, the first iteration is peeled
/// off and its unlabelled `break`s are retargeted (continuation.rs,
/// `retarget`): `break ::core::u32::MAX` becomes
/// `break '__io_loop0 ::core::u32::MAX`, which syn reads as a label
/// followed by `:`; `parse_quote!` of the peeled loop panics.
///
/// Fixed: a retargeted `break` value that starts with `::` is parenthesized.
#[test]
fn regression_break_value_with_leading_path_separator() {
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> { \
             let v: u32 = loop { wait!(c); break ::core::u32::MAX; }; Ok(IOResult::Done(v)) }",
    );
}

/// `wait! { c }` needs no `;` as a statement; points.rs turns it into the
/// expression statement `__io_point!(0)` without one, so a block holding it
/// and a statement after it no longer prints as Rust, and re-parsing it
/// panics: in the `while` rewrite (normalize.rs) and in the peeled `loop`
/// (continuation.rs). (`call! { .. }` escapes: its code is a `match`.)
///
/// Fixed: the marker phase adds the `;` the placeholder statement needs.
#[test]
fn regression_brace_delimited_marker_statement() {
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> { \
             loop { wait! { c } x; } }",
    );
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> { \
             while a { yield_now! {} x; } Ok(IOResult::Done(1)) }",
    );
}

/// A bare `crate` is a path expression, so it passes as a marker's operand;
/// spliced into statement position (`match crate { .. }` for `call!`,
/// `{ crate }` for the analysis form of a `wait!`) it no longer parses:
/// syn reads a statement starting with `crate` as an item or a macro path
/// ("expected `!`"). In a loop that holds the point, `parse_quote!` of the
/// peeled loop panics (continuation.rs, `Expr::Loop` in `resume_expr`);
/// elsewhere the user gets "BUG: io-model's #[resumable] generated code
/// that does not parse ..; please report" instead of an error at the
/// operand. Found by the fuzz target (`call!(crate =#[..]!(op()))`).
///
/// Fixed: operands spliced into generated code are parenthesized.
#[test]
fn regression_crate_as_marker_operand() {
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState) -> Result<IOResult<u32>> { loop { wait!(crate); } }",
    );
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState) -> Result<IOResult<u32>> { \
             let v: u32 = call!(crate); Ok(IOResult::Done(v)) }",
    );
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState) -> Result<IOResult<u32>> { \
             yield_now!(); wait!(crate); Ok(IOResult::Done(1)) }",
    );
}

/// When `expand` fails, `expand_or_fallback` emits the errors next to a
/// stand-in of the item (lib.rs `fallback`, codegen.rs `fallback`), which
/// writes the item's attributes in front of it, inner ones included:
/// `#![allow(dead_code)]` of an `impl` block or of a fn body lands before
/// `impl`/`fn`, so the output does not parse ("expected square brackets")
/// and the user gets a parse error instead of the one error the stand-in
/// is for. On success the same happens to a function's body attributes
/// (codegen.rs `function` writes `#(#attrs)*` before the signature): for
/// a method, lib.rs cannot re-parse it and reports "BUG: .. generated a
/// method that does not parse"; for a free function the output starts
/// with `#![allow(unused)] fn ..`, which parses as a file's attribute but
/// is not what the user wrote (rustc refuses an inner attribute there).
///
/// Fixed: inner attributes stay inside the body or the impl block.
#[test]
fn regression_fallback_inner_attributes() {
    assert_no_failure("", "impl Reader { #![allow(dead_code)] fn f(&self) {} }");
    assert_no_failure(
        "",
        "impl Reader { #[resumable(state = self.st)] fn f(&mut self) -> Result<IOResult<()>> { \
             #![allow(unused)] Ok(IOResult::Done(())) } }",
    );
    assert_no_failure(
        "state = st",
        "fn f(st: &mut FState) -> u8 { #![allow(dead_code)] 1 }",
    );
}

/// `name = Self` (or `self`, `crate`, `super`) passes `args.rs` (it is a
/// one-segment path) and becomes `enum Self { .. }`, which does not parse.
///
/// Fixed: `name = ..` refuses keywords.
#[test]
fn regression_name_is_a_keyword() {
    assert_no_failure(
        "state = st, name = Self",
        "fn f(st: &mut Self) -> Result<IOResult<()>> { Ok(IOResult::Done(())) }",
    );
}

/// Prints one generated case and what the expander made of it:
/// `IO_MODEL_FUZZ_CASE=0x.. cargo test -p io-model-transform --test
/// generated_bodies show_case -- --ignored --nocapture`.
#[test]
#[ignore = "a tool: prints the case named by IO_MODEL_FUZZ_CASE"]
fn show_case() {
    let Ok(seed) = std::env::var("IO_MODEL_FUZZ_CASE") else {
        println!("set IO_MODEL_FUZZ_CASE to a case seed");
        return;
    };
    let seed = parse_seed(&seed);
    let shown = support::with_big_stack(move || {
        let Some(case) = make_case(seed) else {
            return "the case does not lex".to_string();
        };
        let result = match check(&case.attr, &case.tokens).result {
            Ok(Ok(())) => "expands".to_string(),
            Ok(Err(e)) => format!("error: {e}"),
            Err(f) => f.to_string(),
        };
        format!("{}\n{result}", pretty(&case.attr, &case.tokens))
    });
    println!("{shown}");
}
