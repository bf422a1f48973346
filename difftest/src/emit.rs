//! Writes programs as Rust: one module file per program (its resumable
//! form, its oracle form in an inner `mod oracle`, and a `main` that runs
//! it under every driver), and batch crates of such modules.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::ast::{point_names, Form, Printer, Program, Which};
use crate::oracle::drops;

/// One program's module source.
#[derive(Clone, Debug)]
pub struct Module {
    /// The module name (`p17`, or a regression's name).
    pub name: String,
    /// The program's number (its drivers' seeds derive from it).
    pub index: usize,
    /// The file's text.
    pub text: String,
    /// The first line (1-based) of the oracle part: an error at or after
    /// it is the generator's fault.
    pub oracle_line: usize,
}

fn sig_self(form: Form) -> &'static str {
    match form {
        Form::Free => "",
        Form::Field => "&mut self, ",
        Form::RefCell | Form::Mutex => "&self, ",
    }
}

fn place(form: Form, field: &str) -> String {
    match form {
        Form::Free => "st".to_string(),
        Form::Field => format!("self.{field}"),
        Form::RefCell => format!("self.{field}.borrow_mut()"),
        Form::Mutex => format!("self.{field}.lock().unwrap()"),
    }
}

fn wrap_ty(form: Form, ty: &str) -> String {
    match form {
        Form::Free | Form::Field => ty.to_string(),
        Form::RefCell => format!("RefCell<{ty}>"),
        Form::Mutex => format!("Mutex<{ty}>"),
    }
}

fn read_state(form: Form, field: &str) -> String {
    match form {
        Form::Free => format!("self.{field}"),
        Form::Field => format!("self.obj.{field}"),
        Form::RefCell => format!("self.obj.{field}.borrow()"),
        Form::Mutex => format!("self.obj.{field}.lock().unwrap()"),
    }
}

fn write_state(form: Form, field: &str) -> String {
    match form {
        Form::Free => format!("self.{field}"),
        Form::Field => format!("self.obj.{field}"),
        Form::RefCell => format!("self.obj.{field}.borrow_mut()"),
        Form::Mutex => format!("self.obj.{field}.lock().unwrap()"),
    }
}

/// The resumable form of a program: its functions and `Machine`.
pub fn resumable_source(p: &Program) -> String {
    let mut out = String::new();
    let form = p.form;
    let fn_text = |which: Which, name: &str, params: &str, ind: &str| -> String {
        let body = Printer::new(p, which, None).body();
        let body: String = body.lines().map(|l| format!("{ind}{l}\n")).collect();
        let state_ty = match which {
            Which::Main => "RunState".to_string(),
            Which::Sub(n) => format!("S{n}State"),
        };
        let field = match which {
            Which::Main => "st".to_string(),
            Which::Sub(n) => format!("s{n}"),
        };
        let head = match form {
            Form::Free => format!(
                "{ind}#[io_model::resumable(state = st)]\n{ind}pub fn {name}(st: &mut {state_ty}, env: &Env, hs: &mut HandState, {params}) -> io_model::Result<IOResult<u64>> {{\n"
            ),
            _ => format!(
                "{ind}#[resumable(state = {})]\n{ind}pub fn {name}({}env: &Env, {params}) -> io_model::Result<IOResult<u64>> {{\n",
                place(form, &field),
                sig_self(form)
            ),
        };
        format!("{head}{body}{ind}}}\n")
    };
    if form != Form::Free {
        let _ = writeln!(out, "pub struct Obj {{");
        let _ = writeln!(out, "    st: {},", wrap_ty(form, "RunState"));
        let _ = writeln!(out, "    hs: {},", wrap_ty(form, "HandState"));
        for n in 0..p.subs.len() {
            let _ = writeln!(out, "    s{n}: {},", wrap_ty(form, &format!("S{n}State")));
        }
        let _ = writeln!(out, "}}\n");
        let _ = writeln!(out, "#[io_model::resumable]\nimpl Obj {{");
        for n in 0..p.subs.len() {
            out.push_str(&fn_text(Which::Sub(n), &format!("s{n}"), "x: u64", "    "));
        }
        out.push_str(&fn_text(Which::Main, "run", "a: u64, b: u64", "    "));
        let _ = writeln!(out, "}}\n");
    } else {
        for n in 0..p.subs.len() {
            out.push_str(&fn_text(Which::Sub(n), &format!("s{n}"), "x: u64", ""));
            out.push('\n');
        }
        out.push_str(&fn_text(Which::Main, "run", "a: u64, b: u64", ""));
        out.push('\n');
    }
    // The machine the drivers call.
    let (a, b) = p.args;
    let cancellable: Vec<String> = point_names(&p.main)
        .into_iter()
        .filter(|(_, _, active, call)| *active && !*call)
        .map(|(n, _, _, _)| format!("{n:?}"))
        .collect();
    match form {
        Form::Free => {
            let _ = writeln!(
                out,
                "pub struct M {{\n    st: RunState,\n    hs: HandState,\n}}\n"
            );
            let _ = writeln!(out, "impl Machine for M {{");
            let _ = writeln!(out, "    fn step(&mut self, env: &Env) -> io_model::Result<IOResult<u64>> {{\n        run(&mut self.st, env, &mut self.hs, {a}, {b})\n    }}");
        }
        _ => {
            let _ = writeln!(out, "pub struct M {{\n    obj: Obj,\n}}\n");
            let _ = writeln!(out, "impl Machine for M {{");
            let _ = writeln!(out, "    fn step(&mut self, env: &Env) -> io_model::Result<IOResult<u64>> {{\n        self.obj.run(env, {a}, {b})\n    }}");
        }
    }
    let _ = writeln!(
        out,
        "    fn is_idle(&self) -> bool {{\n        {}.is_idle()\n    }}",
        read_state(form, "st")
    );
    let _ = writeln!(
        out,
        "    fn name(&self) -> &'static str {{\n        {}.name()\n    }}",
        read_state(form, "st")
    );
    let _ = writeln!(
        out,
        "    fn cancel(&mut self) {{\n        {}.cancel()\n    }}",
        write_state(form, "st")
    );
    let _ = writeln!(
        out,
        "    fn cancellable(&self, name: &str) -> bool {{\n        [{}].contains(&name)\n    }}",
        cancellable.join(", ")
    );
    let _ = writeln!(out, "}}\n");
    let ctor = match form {
        Form::Free => "M { st: Default::default(), hs: Default::default() }".to_string(),
        _ => {
            let subs: String = (0..p.subs.len())
                .map(|n| format!(", s{n}: Default::default()"))
                .collect();
            format!("M {{ obj: Obj {{ st: Default::default(), hs: Default::default(){subs} }} }}")
        }
    };
    let _ = writeln!(
        out,
        "pub fn machine() -> Box<dyn Machine> {{\n    Box::new({ctor})\n}}"
    );
    out
}

/// The oracle form of a program: `oracle::oracle(env)`.
pub fn oracle_source(p: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "pub mod oracle {{");
    let _ = writeln!(out, "    use io_model_programs_runtime::prelude::*;\n");
    for n in 0..p.subs.len() {
        // A sub-operation's `Yield0` is not the main function's.
        let d = drops(&p.subs[n]).qualified(&format!("s{n}::"));
        let body = Printer::new(p, Which::Sub(n), Some(&d)).body();
        let _ = writeln!(
            out,
            "    pub fn s{n}_oracle(env: &Env, x: u64) -> io_model::Result<u64> {{"
        );
        for l in body.lines() {
            let _ = writeln!(out, "    {l}");
        }
        let _ = writeln!(out, "    }}\n");
    }
    let d = drops(&p.main);
    let body = Printer::new(p, Which::Main, Some(&d)).body();
    let _ = writeln!(
        out,
        "    pub fn run(env: &Env, a: u64, b: u64) -> io_model::Result<u64> {{"
    );
    for l in body.lines() {
        let _ = writeln!(out, "    {l}");
    }
    let _ = writeln!(out, "    }}\n");
    let (a, b) = p.args;
    let _ = writeln!(
        out,
        "    pub fn oracle(env: &Env) -> io_model::Result<u64> {{\n        run(env, {a}, {b})\n    }}"
    );
    let _ = writeln!(out, "}}");
    out
}

/// The module file of a program.
pub fn module(p: &Program, name: &str, note: &str) -> Module {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "// Program {} of seed {} ({}), generated by io-model-programs.",
        p.index,
        p.seed,
        p.form.name()
    );
    let _ = writeln!(
        text,
        "// Reproduce: cargo run --release -p io-model-programs -- --seed {} --only {}{}",
        p.seed, p.index, p.flags
    );
    for l in note.lines() {
        let _ = writeln!(text, "// {l}");
    }
    text.push_str(
        "#![allow(unused, unreachable_code, unreachable_patterns, clippy::all)]\n\
         use io_model_programs_runtime::prelude::*;\n\
         use std::cell::RefCell;\nuse std::sync::Mutex;\n\n",
    );
    let _ = writeln!(
        text,
        "/// The program's number: its drivers' seeds derive from it."
    );
    let _ = writeln!(text, "pub const INDEX: usize = {};\n", p.index);
    text.push_str(&resumable_source(p));
    text.push('\n');
    let _ = writeln!(
        text,
        "/// Runs the program under every driver and prints one line per run."
    );
    let _ = writeln!(
        text,
        "pub fn main(seeds: u64) {{\n    io_model_programs_runtime::check_all(INDEX, {}, seeds, &machine, &oracle::oracle);\n}}\n",
        p.seed
    );
    let oracle_line = text.lines().count() + 1;
    text.push_str(&oracle_source(p));
    Module {
        name: name.to_string(),
        index: p.index,
        text,
        oracle_line,
    }
}

/// The workspace root (where `io-model/` and `difftest/` are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("BUG: difftest/ has a parent")
        .to_path_buf()
}

/// Writes a batch crate holding `modules` at `dir` (its `src/` is
/// replaced). `included`: the modules the main runs (the others are left
/// out of the build). `optimize_macros`: build the proc-macro (and syn)
/// optimized: a slower first build, faster expansion in every later one.
pub fn write_batch(
    dir: &Path,
    modules: &[Module],
    included: &[bool],
    optimize_macros: bool,
) -> std::io::Result<()> {
    let root = workspace_root();
    let src = dir.join("src");
    std::fs::create_dir_all(&src)?;
    let toml = format!(
        "[package]\nname = \"difftest-batch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nio-model = {{ path = {:?} }}\nio-model-programs-runtime = {{ path = {:?} }}\n\n\
         [workspace]\n\n[profile.dev]\ndebug = 0\nopt-level = 0\nincremental = false\n\n\
         [profile.dev.build-override]\nopt-level = {}\ndebug = 0\n",
        root.join("io-model"),
        root.join("difftest/runtime"),
        if optimize_macros { 2 } else { 0 },
    );
    write_if_changed(&dir.join("Cargo.toml"), &toml)?;
    let lock = root.join("Cargo.lock");
    if lock.exists() && !dir.join("Cargo.lock").exists() {
        std::fs::copy(&lock, dir.join("Cargo.lock"))?;
    }
    // Remove stale module files.
    for e in std::fs::read_dir(&src)? {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name != "main.rs" && !modules.iter().any(|m| format!("{}.rs", m.name) == name) {
            std::fs::remove_file(e.path())?;
        }
    }
    let mut main = String::from("#![allow(warnings)]\n");
    for (m, inc) in modules.iter().zip(included) {
        write_if_changed(&src.join(format!("{}.rs", m.name)), &m.text)?;
        if *inc {
            let _ = writeln!(main, "mod {};", m.name);
        }
    }
    main.push_str(
        "\nfn main() {\n    io_model_programs_runtime::quiet_panics();\n    \
         let args: Vec<String> = std::env::args().collect();\n    \
         let from: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);\n    \
         let seeds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);\n    \
         let only: Option<String> = args.get(3).cloned();\n    \
         let mains: &[(&str, fn(u64))] = &[\n",
    );
    for (m, inc) in modules.iter().zip(included) {
        if *inc {
            let _ = writeln!(main, "        ({:?}, {}::main),", m.name, m.name);
        }
    }
    main.push_str(
        "    ];\n    for (i, (name, f)) in mains.iter().enumerate() {\n        \
         if i < from || only.as_deref().is_some_and(|o| o != *name) {\n            continue;\n        }\n        \
         println!(\"START {i} {name}\");\n        f(seeds);\n        println!(\"END {i} {name}\");\n    }\n}\n",
    );
    write_if_changed(&src.join("main.rs"), &main)?;
    Ok(())
}

fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    std::fs::write(path, text)
}
