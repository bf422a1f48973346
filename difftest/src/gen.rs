//! The seeded program generator.
//!
//! It builds a [`Program`] statement by statement, keeping track of what
//! plain Rust allows at each place: which locals are in scope and visible
//! (not shadowed), initialized, not moved; which loops enclose the place
//! (for `break`/`continue` and their labels and values); and which locals
//! the transform can store (a local whose type the macro cannot read, a
//! pattern binding such as `Some(v)`, is only used where it is not live
//! across a suspension point: before the next marker and outside nested
//! loops). Every loop is bounded by a counter, so every program ends.

use std::collections::BTreeSet;

use io_model_programs_runtime::Rng;

use crate::ast::{
    Arm, Block, CallOp, Cfg, Expr, Form, Func, LoopHead, LoopKind, Marker, MarkerKind, Pat,
    Program, Stmt, StmtKind, Ty, Value, Var, VarId,
};

/// Constructs the generator can be told to leave out (`--disable`).
pub const CONSTRUCTS: &[&str] = &[
    "cfg",
    "labels",
    "noisy",
    "subs",
    "hand-locals",
    "methods",
    "guards",
    "if",
    "if-let",
    "match",
    "loop",
    "while",
    "while-call",
    "while-let",
    "for",
    "let-else",
    "block",
    "deferred-init",
    "break-value",
    "labelled-break",
    "continue",
    "return",
    "try",
    "moves",
    "shadowing",
    "wait",
    "wait-all",
    "call",
    "yield",
    "completion-locals",
    "value-constructs",
    "else-if",
    "arrays",
    // Narrow shapes of known transform findings (docs: difftest-findings F5-F9):
    "block-cond",
    "cfg-in-value",
    "shadow-across-point",
    "tuple-mut",
    "value-construct-in-loop",
    "cfg-point",
    "let-else-call-init",
    "cfg-any-assign",
    "let-else-in-loop",
    "outer-break-after-point",
    "diverge-after-point-in-loop",
    "loop-in-value",
    "cfg-point-in-compound",
    // `#[cfg(..)] return ..;` (and `break`, `continue`): the code after it
    // was dropped as unreachable, also where the `#[cfg]` is false.
    "cfg-diverge",
];

/// The constructs of open transform findings: the CI test leaves them out
/// (each has a regression in `difftest/regressions/`, listed in
/// `known-failures.txt`).
pub const KNOWN_FAILING: &[&str] = &[
    // F8, by design: a local live across a point where another binding of
    // its name shadows it is an error that says to rename one of the two.
    "shadow-across-point",
];

/// What the generator makes.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// Deepest nesting of compound statements and value constructs.
    pub max_depth: usize,
    /// Statements of a main function, at most.
    pub max_stmts: usize,
    /// Constructs left out.
    pub disabled: BTreeSet<String>,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            max_depth: 4,
            max_stmts: 28,
            disabled: BTreeSet::new(),
        }
    }
}

impl GenConfig {
    fn on(&self, what: &str) -> bool {
        !self.disabled.contains(what)
    }

    /// The command-line flags that ask for this configuration.
    ///
    /// ```
    /// use io_model_programs::gen::{GenConfig, KNOWN_FAILING};
    ///
    /// let mut cfg = GenConfig::default();
    /// assert_eq!(cfg.flags(), "");
    /// cfg.disabled.extend(KNOWN_FAILING.iter().map(|s| s.to_string()));
    /// cfg.disabled.insert("yield".to_string());
    /// assert_eq!(cfg.flags(), " --skip-known --disable yield");
    /// ```
    pub fn flags(&self) -> String {
        let mut out = String::new();
        let known = KNOWN_FAILING.iter().all(|k| self.disabled.contains(*k));
        if known {
            out.push_str(" --skip-known");
        }
        let rest: Vec<&str> = self
            .disabled
            .iter()
            .map(String::as_str)
            .filter(|d| !(known && KNOWN_FAILING.contains(d)))
            .collect();
        if !rest.is_empty() {
            out.push_str(&format!(" --disable {}", rest.join(",")));
        }
        let default = GenConfig::default();
        if self.max_depth != default.max_depth {
            out.push_str(&format!(" --max-depth {}", self.max_depth));
        }
        if self.max_stmts != default.max_stmts {
            out.push_str(&format!(" --max-stmts {}", self.max_stmts));
        }
        out
    }
}

/// The generator seed of program `index` of a run with `seed`.
pub fn program_seed(seed: u64, index: usize) -> u64 {
    io_model_programs_runtime::mix(seed ^ io_model_programs_runtime::mix(index as u64 + 1))
}

/// Generates program `index` of the run with `seed`.
pub fn generate(seed: u64, index: usize, cfg: &GenConfig) -> Program {
    let mut rng = Rng::new(program_seed(seed, index));
    let form = if !cfg.on("methods") {
        Form::Free
    } else {
        match rng.below(100) {
            0..=39 => Form::Free,
            40..=64 => Form::Field,
            _ if !cfg.on("guards") => Form::Field,
            65..=84 => Form::RefCell,
            _ => Form::Mutex,
        }
    };
    let mut ids = Ids::default();
    let n_subs = if cfg.on("subs") && cfg.on("call") {
        rng.below(3) as usize
    } else {
        0
    };
    let mut subs = Vec::new();
    for n in 0..n_subs {
        let budget = 2 + rng.below(6) as isize;
        let mut g = FnGen::new(&mut rng, cfg, &mut ids, form, &["x"], 0, budget, 2);
        g.sub_index = Some(n);
        subs.push(g.run());
    }
    let budget = 3 + rng.below(cfg.max_stmts.max(1) as u64) as isize;
    let main = FnGen::new(
        &mut rng,
        cfg,
        &mut ids,
        form,
        &["a", "b"],
        n_subs,
        budget,
        cfg.max_depth,
    )
    .run();
    let args = (rng.below(10), rng.below(10));
    let mut p = Program {
        index,
        seed,
        form,
        main,
        subs,
        args,
        flags: cfg.flags(),
    };
    if !cfg.on("shadow-across-point") {
        unshadow_across_points(&mut p.main);
        for f in &mut p.subs {
            unshadow_across_points(f);
        }
    }
    p.finish();
    if !cfg.on("shadow-across-point") {
        unshadow_as_the_transform_sees(&mut p);
    }
    p
}

/// Renames the shadowing locals the transform still rejects (F8). Its
/// liveness is coarser than the oracle's in places (a loop, a `#[cfg]`),
/// so [`unshadow_across_points`] can leave some; here the program is
/// expanded, and every later local of a name the transform names is
/// renamed, until it expands without that error.
pub fn unshadow_as_the_transform_sees(p: &mut Program) {
    let repeats = |f: &Func| {
        let mut seen = BTreeSet::new();
        f.vars.iter().any(|v| !seen.insert(&v.name))
    };
    for _ in 0..4 {
        if !repeats(&p.main) && !p.subs.iter().any(repeats) {
            return;
        }
        let names = shadowing_errors(&crate::emit::resumable_source(p));
        if names.is_empty() {
            return;
        }
        for f in std::iter::once(&mut p.main).chain(p.subs.iter_mut()) {
            let mut seen = BTreeSet::new();
            for w in 0..f.vars.len() {
                let name = f.vars[w].name.clone();
                if names.contains(&name) && !seen.insert(name.clone()) {
                    f.vars[w].name = format!("{name}{w}");
                }
            }
        }
    }
}

/// How long [`shadowing_errors`] waits for the transform.
const EXPAND_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The names in the transform's "another `x` shadows it there" errors on
/// the `#[io_model::resumable]` items of `src`. A transform that does not
/// end within [`EXPAND_LIMIT`] is left running on its thread and no names
/// are given: building the program then hangs too, which the runner's
/// build limit reports as a finding.
fn shadowing_errors(src: &str) -> BTreeSet<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let src = src.to_string();
    let spawned = std::thread::Builder::new()
        .name("unshadow-expand".into())
        .spawn(move || {
            let _ = tx.send(shadowing_errors_now(&src));
        });
    if spawned.is_err() {
        return BTreeSet::new();
    }
    match rx.recv_timeout(EXPAND_LIMIT) {
        Ok(names) => names,
        // The transform panicked: building the program shows it.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => BTreeSet::new(),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            eprintln!(
                "difftest: the transform did not expand a generated program within {EXPAND_LIMIT:?}; its build will be reported as a hang"
            );
            BTreeSet::new()
        }
    }
}

fn shadowing_errors_now(src: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    expand_each(src, &mut |r| {
        let Err(errors) = r else {
            return;
        };
        for e in errors {
            let text = e.to_string();
            if let (true, Some(name)) = (text.contains("shadows it there"), text.split('`').nth(1))
            {
                names.insert(name.to_string());
            }
        }
    });
    names
}

/// Expands each `#[io_model::resumable]` item of `src` with the transform.
pub fn expand_each(src: &str, f: &mut dyn FnMut(syn::Result<proc_macro2::TokenStream>)) {
    let Ok(file) = syn::parse_file(src) else {
        return;
    };
    for item in file.items {
        let mut item = item;
        let attrs = match &mut item {
            syn::Item::Fn(f) => &mut f.attrs,
            syn::Item::Impl(i) => &mut i.attrs,
            _ => continue,
        };
        let Some(at) = attrs.iter().position(|a| {
            a.path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "resumable")
        }) else {
            continue;
        };
        let attr = attrs.remove(at);
        let args = match attr.meta {
            syn::Meta::List(l) => l.tokens,
            _ => proc_macro2::TokenStream::new(),
        };
        let tokens = quote::ToTokens::into_token_stream(item);
        f(io_model_transform::expand(args, tokens));
    }
}

/// Whether a statement holds a marker (compiled or not).
fn has_marker(k: &StmtKind) -> bool {
    let s = Stmt {
        cfg: None,
        kind: k.clone(),
    };
    let f = Func {
        vars: Vec::new(),
        body: Block {
            stmts: vec![s],
            tail: None,
        },
        ret: Expr::Lit(0),
    };
    !f.markers().is_empty()
}

/// Whether a statement assigns a local (`x = ..`, `x += ..`) anywhere inside.
fn has_assign(k: &StmtKind) -> bool {
    fn block(b: &Block) -> bool {
        b.stmts.iter().any(|s| stmt(&s.kind)) || b.tail.as_deref().is_some_and(value)
    }
    fn value(v: &Value) -> bool {
        match v {
            Value::Block(b) => block(b),
            Value::If(c, t, e) => value(c) || block(t) || block(e),
            Value::Match(s, arms) => value(s) || arms.iter().any(|a| value(&a.body)),
            Value::Loop(_, b) => block(b),
            Value::Expr(_) | Value::Marker(_) | Value::Try(_) => false,
        }
    }
    fn stmt(k: &StmtKind) -> bool {
        if matches!(k, StmtKind::Assign { .. } | StmtKind::IndexAssign { .. }) {
            return true;
        }
        let mut found = false;
        crate::ast::for_children(k, &mut |c| {
            found |= match c {
                crate::ast::Child::Block(b) => block(b),
                crate::ast::Child::Value(v) => value(v),
            }
        });
        found
    }
    stmt(k)
}

/// Renames every local that shadows a local live across a suspension
/// point where both are in scope (the transform rejects that: finding F8).
pub fn unshadow_across_points(f: &mut Func) {
    for w in crate::oracle::shadow_conflicts(f) {
        let name = format!("{}{w}", f.vars[w].name);
        f.vars[w].name = name;
    }
}

/// Ids unique in a program: statement ids in the log, Noisy ids, I/O tags,
/// labels.
#[derive(Default)]
struct Ids {
    stmt: u32,
    noisy: u32,
    io: u32,
}

impl Ids {
    fn stmt(&mut self) -> u32 {
        self.stmt += 1;
        self.stmt
    }
    fn noisy(&mut self) -> u32 {
        self.noisy += 1;
        self.noisy
    }
    fn io(&mut self) -> u32 {
        self.io += 1;
        self.io
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Own {
    Owned,
    Moved,
    Uninit,
}

#[derive(Clone, Debug)]
struct VarState {
    own: Own,
    /// The macro can read its type.
    typed: bool,
    /// Markers generated before it was bound (untyped locals only).
    bound_markers: usize,
    /// Loops enclosing its declaration.
    loop_depth: usize,
    /// May be assigned (`x = ..`).
    assignable: bool,
}

#[derive(Default, Clone)]
struct Frame {
    vars: Vec<VarId>,
    /// A block's frame (statements can be inserted before the current one).
    block: bool,
    pending: Vec<Stmt>,
    /// Markers generated before the block.
    markers: usize,
}

struct LoopCx {
    label: Option<String>,
    /// A `loop` whose value is used: its breaks carry a `u64`.
    value: bool,
    /// Markers generated before its body.
    markers: usize,
}

struct FnGen<'a> {
    rng: &'a mut Rng,
    cfg: &'a GenConfig,
    ids: &'a mut Ids,
    form: Form,
    vars: Vec<Var>,
    st: Vec<VarState>,
    frames: Vec<Frame>,
    loops: Vec<LoopCx>,
    markers: usize,
    depth: usize,
    max_depth: usize,
    budget: isize,
    n_subs: usize,
    labels: u32,
    loop_labels: u32,
    in_call_operand: bool,
    /// The statement being built is under `#[cfg]`: no `let`.
    no_let: bool,
    /// Value constructs enclosing the current place.
    in_value: usize,
    /// The right side of a compound assignment (`x += ..`) is being built.
    in_compound: bool,
    /// Which sub-operation this is (`None`: the main function).
    sub_index: Option<usize>,
    /// Names that must not be declared again (a deferred `let`'s local
    /// while its branches are built: they assign it by name).
    reserved: Vec<String>,
    /// This function declares `[u64; 4]` locals.
    arrays: bool,
    /// Its locals are only plain data (`u64`, arrays), so that the
    /// transform's in-place arms apply to its points.
    plain: bool,
    /// Its arrays are named inside a macro (`format!`) at times, which
    /// keeps them out of the in-place path.
    arr_macro: bool,
}

const U64_NAMES: &[&str] = &["x", "y", "z", "w", "q"];
const STR_NAMES: &[&str] = &["s", "t"];
const VEC_NAMES: &[&str] = &["v", "u"];
const OPT_NAMES: &[&str] = &["o", "p"];
const NOISY_NAMES: &[&str] = &["n", "m", "g"];
const TUP_NAMES: &[&str] = &["tp", "tq"];
const COMPLETION_NAMES: &[&str] = &["c", "d"];
const BIND_NAMES: &[&str] = &["e", "f", "r"];
const ARR_NAMES: &[&str] = &["ra", "rb", "rc", "rd"];

impl<'a> FnGen<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        rng: &'a mut Rng,
        cfg: &'a GenConfig,
        ids: &'a mut Ids,
        form: Form,
        params: &[&str],
        n_subs: usize,
        budget: isize,
        max_depth: usize,
    ) -> Self {
        let mut g = FnGen {
            rng,
            cfg,
            ids,
            form,
            vars: Vec::new(),
            st: Vec::new(),
            frames: vec![Frame::default()],
            loops: Vec::new(),
            markers: 0,
            depth: 0,
            max_depth,
            budget,
            n_subs,
            labels: 0,
            loop_labels: 0,
            in_call_operand: false,
            no_let: false,
            in_value: 0,
            in_compound: false,
            sub_index: None,
            reserved: Vec::new(),
            arrays: false,
            plain: false,
            arr_macro: false,
        };
        if cfg.on("arrays") && g.rng.chance(50) {
            g.arrays = true;
            g.plain = g.rng.chance(45);
            g.arr_macro = g.rng.chance(35);
        }
        for p in params {
            let v = g.new_var_named(p.to_string(), Ty::U64, true);
            g.vars[v].param = true;
            g.st[v].assignable = false;
        }
        g
    }

    fn run(mut self) -> Func {
        // A function with arrays declares one first, so that it is in
        // scope everywhere, and often reads it in its return value: live
        // across every point.
        let mut first = None;
        if self.arrays {
            let init = Value::Expr(self.expr_arr(1));
            let v = self.declare(Ty::ArrU64, true);
            first = Some(Stmt {
                cfg: None,
                kind: StmtKind::Let(v, Some(init)),
            });
        }
        let mut body = self.block_n(self.budget.max(1) as usize, None, true);
        if let Some(s) = first {
            body.stmts.insert(0, s);
        }
        // Only the first array can be visible here (the body's frame is
        // gone), and only where the body declares no other of its name.
        let first_arr = self.pick_var(Ty::ArrU64);
        if let Some(v) = first_arr {
            if self.vars[v + 1..]
                .iter()
                .any(|w| w.name == self.vars[v].name)
            {
                // Shadowed in the printed body: not to be read at all.
                self.st[v].own = Own::Moved;
            }
        }
        let first_arr = first_arr.filter(|v| self.st[*v].own == Own::Owned);
        let ret = match first_arr {
            Some(v) if self.chance(60) => {
                let r = self.arr_read(v, 1);
                Expr::Add(Box::new(self.expr(Ty::U64, 1)), Box::new(r))
            }
            _ => self.expr(Ty::U64, 2),
        };
        Func {
            vars: self.vars,
            body,
            ret,
        }
    }

    // ----- randomness helpers -----

    fn chance(&mut self, percent: u64) -> bool {
        self.rng.chance(percent)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.rng.below(n)
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.below(xs.len() as u64) as usize]
    }

    fn on(&self, what: &str) -> bool {
        self.cfg.on(what)
    }

    // ----- locals -----

    fn new_var_named(&mut self, name: String, ty: Ty, typed: bool) -> VarId {
        let id = self.vars.len();
        self.vars.push(Var {
            name,
            ty,
            mutable: false,
            param: false,
        });
        self.st.push(VarState {
            own: Own::Owned,
            typed,
            bound_markers: self.markers,
            loop_depth: self.loops.len(),
            assignable: true,
        });
        id
    }

    /// A new local of `ty`, its name from the type's pool (sometimes one
    /// already visible: shadowing), declared in the innermost frame.
    /// A pattern or loop binding: never assigned.
    fn bind(&mut self, typed: bool) -> VarId {
        let v = self.declare(Ty::U64, typed);
        self.st[v].assignable = false;
        v
    }

    fn declare(&mut self, ty: Ty, typed: bool) -> VarId {
        let pool: &[&str] = match ty {
            Ty::U64 if typed => U64_NAMES,
            Ty::U64 => BIND_NAMES,
            Ty::Str => STR_NAMES,
            Ty::VecU64 => VEC_NAMES,
            Ty::OptU64 => OPT_NAMES,
            Ty::Noisy => NOISY_NAMES,
            Ty::Tup => TUP_NAMES,
            Ty::Completion => COMPLETION_NAMES,
            Ty::Hand => &["h"],
            Ty::ArrU64 => ARR_NAMES,
            Ty::SubState(_) | Ty::Bool | Ty::Unit => &["_w"],
        };
        let unused: Vec<&str> = if ty == Ty::ArrU64 && !self.chance(15) {
            pool.iter()
                .copied()
                .filter(|n| !self.vars.iter().any(|v| v.name == *n))
                .filter(|n| !self.reserved.iter().any(|r| r == n))
                .collect()
        } else {
            Vec::new()
        };
        let name = match ty {
            Ty::SubState(n) => format!("ss{n}"),
            // An array's name bound once in the function (the in-place
            // path needs that).
            _ if !unused.is_empty() => self.pick(&unused).to_string(),
            _ => {
                let shadow = self.on("shadowing") && self.chance(35);
                let allowed: Vec<&str> = pool
                    .iter()
                    .copied()
                    .filter(|n| !self.reserved.iter().any(|r| r == n))
                    .collect();
                let visible: Vec<String> = allowed
                    .iter()
                    .filter(|n| self.name_visible(n))
                    .map(|n| n.to_string())
                    .collect();
                let fresh: Vec<&str> = allowed
                    .iter()
                    .copied()
                    .filter(|n| !self.name_visible(n))
                    .collect();
                if (shadow || fresh.is_empty()) && !visible.is_empty() {
                    let i = self.below(visible.len() as u64) as usize;
                    visible[i].clone()
                } else if !fresh.is_empty() {
                    self.pick(&fresh).to_string()
                } else {
                    format!("{}{}", pool[0], self.vars.len())
                }
            }
        };
        let v = self.new_var_named(name, ty, typed);
        self.frames.last_mut().expect("BUG: no frame").vars.push(v);
        v
    }

    fn name_visible(&self, name: &str) -> bool {
        self.frames
            .iter()
            .flat_map(|f| f.vars.iter())
            .any(|v| self.vars[*v].name == name)
    }

    /// Whether `v` is reachable by its name (no later local shadows it).
    fn visible(&self, v: VarId) -> bool {
        let name = &self.vars[v].name;
        let mut seen = false;
        for f in &self.frames {
            for &w in &f.vars {
                if w == v {
                    seen = true;
                } else if seen && &self.vars[w].name == name {
                    return false;
                }
            }
        }
        seen
    }

    fn usable(&self, v: VarId) -> bool {
        let s = &self.st[v];
        if s.own != Own::Owned || !self.visible(v) {
            return false;
        }
        if !s.typed {
            if self.in_call_operand {
                return false;
            }
            if s.bound_markers != self.markers || s.loop_depth != self.loops.len() {
                return false;
            }
        }
        true
    }

    fn usable_of(&self, ty: Ty) -> Vec<VarId> {
        self.frames
            .iter()
            .flat_map(|f| f.vars.iter().copied())
            .filter(|v| self.vars[*v].ty == ty && self.usable(*v))
            .collect()
    }

    fn pick_var(&mut self, ty: Ty) -> Option<VarId> {
        let vs = self.usable_of(ty);
        if vs.is_empty() {
            None
        } else {
            Some(self.pick(&vs))
        }
    }

    /// A local that can be moved here (declared in no loop this place is
    /// not also in).
    fn movable(&mut self, ty: Ty) -> Option<VarId> {
        let vs: Vec<VarId> = self
            .usable_of(ty)
            .into_iter()
            .filter(|v| self.st[*v].loop_depth == self.loops.len())
            .collect();
        if vs.is_empty() {
            None
        } else {
            Some(self.pick(&vs))
        }
    }

    fn snapshot(&self) -> Vec<Own> {
        self.st.iter().map(|s| s.own).collect()
    }

    fn restore(&mut self, snap: &[Own]) {
        for (s, o) in self.st.iter_mut().zip(snap) {
            s.own = *o;
        }
    }

    /// After branches: a local moved on any branch is moved.
    fn merge(&mut self, branches: &[Vec<Own>]) {
        for (i, s) in self.st.iter_mut().enumerate() {
            for b in branches {
                if let Some(o) = b.get(i) {
                    if *o == Own::Moved {
                        s.own = Own::Moved;
                    }
                }
            }
        }
    }

    /// Declares a local in the innermost block, before the current
    /// statement (a state local a `call!` needs).
    fn pending_let(&mut self, ty: Ty) -> VarId {
        let i = self
            .frames
            .iter()
            .rposition(|f| f.block)
            .expect("BUG: no block frame");
        // Declare it in that frame so that it is in scope from here on.
        let saved: Vec<Frame> = self.frames.drain(i + 1..).collect();
        let v = self.declare(ty, true);
        self.frames.extend(saved);
        self.frames[i].pending.push(Stmt {
            cfg: None,
            kind: StmtKind::Let(v, Some(Value::Expr(Expr::DefaultState(ty)))),
        });
        v
    }

    // ----- expressions -----

    fn lit(&mut self) -> u64 {
        self.pick(&[0, 1, 2, 3, 5, 7, 10, 12])
    }

    fn expr(&mut self, ty: Ty, d: usize) -> Expr {
        match ty {
            Ty::U64 => self.expr_u64(d),
            Ty::Bool => self.expr_bool(d),
            Ty::Str => match self.below(3) {
                0 => Expr::Format(Box::new(self.expr_u64(d.saturating_sub(1)))),
                1 => match self.pick_var(Ty::Str) {
                    Some(v) => Expr::Clone(v),
                    None => Expr::StrLit,
                },
                _ => Expr::StrLit,
            },
            Ty::VecU64 => match self.pick_var(Ty::VecU64) {
                Some(v) if self.chance(40) => Expr::Clone(v),
                _ => {
                    let n = self.below(4);
                    Expr::VecLit((0..n).map(|_| self.expr_u64(0)).collect())
                }
            },
            Ty::OptU64 => match self.below(4) {
                0 if self.arrays && self.chance(50) => match self.pick_var(Ty::ArrU64) {
                    Some(v) => Expr::Last(v),
                    None => Expr::None,
                },
                0 => Expr::None,
                1 => match self.pick_var(Ty::VecU64) {
                    Some(v) => Expr::Last(v),
                    None => Expr::Some(Box::new(self.expr_u64(d.saturating_sub(1)))),
                },
                2 => match self.pick_var(Ty::OptU64) {
                    Some(v) => Expr::Var(v),
                    None => Expr::None,
                },
                _ => Expr::Some(Box::new(self.expr_u64(d.saturating_sub(1)))),
            },
            Ty::Tup => Expr::Tuple(
                Box::new(self.expr_u64(d.saturating_sub(1))),
                Box::new(self.expr(Ty::Str, d.saturating_sub(1))),
            ),
            Ty::Noisy => Expr::NewNoisy(self.ids.noisy()),
            Ty::Completion => Expr::Io(self.ids.io()),
            Ty::Hand | Ty::SubState(_) => Expr::DefaultState(ty),
            Ty::ArrU64 => self.expr_arr(d),
            Ty::Unit => unreachable!("BUG: a unit expression"),
        }
    }

    /// A `[u64; 4]` expression.
    fn expr_arr(&mut self, d: usize) -> Expr {
        let src = self.pick_var(Ty::ArrU64);
        let lits = |g: &mut Self| Expr::ArrLit((0..4).map(|_| g.expr_u64(0)).collect());
        match (self.below(6), src) {
            (0 | 1, _) => Expr::ArrRepeat(Box::new(self.expr_u64(d.saturating_sub(1).min(1)))),
            (2, _) | (3 | 4, None) => lits(self),
            (3 | 4, Some(v)) => Expr::Var(v),
            (_, Some(v)) => Expr::ArrRot(v),
            (_, None) => Expr::ArrRepeat(Box::new(Expr::Lit(self.lit()))),
        }
    }

    /// A `u64` read of array local `v`.
    fn arr_read(&mut self, v: VarId, d: usize) -> Expr {
        match self.below(if self.arr_macro { 10 } else { 9 }) {
            0..=2 => Expr::Index(v, Box::new(self.expr_u64(d.saturating_sub(1)))),
            3 => Expr::IndexLit(v, self.below(4)),
            4 => Expr::ArrSum(v),
            5 => Expr::ArrFold(v),
            6 => Expr::ArrClosure(v),
            7 => Expr::Len(v),
            8 => Expr::First(v),
            _ => Expr::ArrFmtLen(v, self.chance(50)),
        }
    }

    fn expr_u64(&mut self, d: usize) -> Expr {
        let choice = self.below(if d == 0 { 4 } else { 9 });
        match choice {
            0 => Expr::Lit(self.lit()),
            1..=3 => {
                let mut tys = vec![
                    Ty::U64,
                    Ty::U64,
                    Ty::U64,
                    Ty::Str,
                    Ty::VecU64,
                    Ty::OptU64,
                    Ty::Noisy,
                    Ty::Tup,
                ];
                if self.arrays {
                    tys.extend([Ty::ArrU64, Ty::ArrU64, Ty::ArrU64]);
                }
                let ty = self.pick(&tys);
                let Some(v) = self.pick_var(ty) else {
                    return match self.pick_var(Ty::U64) {
                        Some(v) => Expr::Var(v),
                        None => Expr::Lit(self.lit()),
                    };
                };
                match ty {
                    Ty::U64 => Expr::Var(v),
                    Ty::Str => Expr::Len(v),
                    Ty::VecU64 => {
                        if self.chance(50) {
                            Expr::Len(v)
                        } else {
                            Expr::First(v)
                        }
                    }
                    Ty::OptU64 => Expr::UnwrapOr(v, self.lit()),
                    Ty::ArrU64 => self.arr_read(v, d),
                    Ty::Noisy => Expr::NoisyId(v),
                    Ty::Tup => {
                        if self.chance(50) {
                            Expr::TupFirst(v)
                        } else {
                            Expr::TupLen(v)
                        }
                    }
                    _ => unreachable!(),
                }
            }
            4 | 5 => Expr::Add(
                Box::new(self.expr_u64(d - 1)),
                Box::new(self.expr_u64(d - 1)),
            ),
            6 if self.on("try") && self.chance(15) => Expr::Check(Box::new(self.expr_u64(d - 1))),
            6 => Expr::Mul3(Box::new(self.expr_u64(d - 1))),
            _ => {
                let m = self.pick(&[2, 5, 7, 100, 1000]);
                Expr::Mod(Box::new(self.expr_u64(d - 1)), m)
            }
        }
    }

    fn expr_bool(&mut self, d: usize) -> Expr {
        match self.below(if self.arrays { 7 } else { 5 }) {
            5 => match self.pick_var(Ty::ArrU64) {
                Some(v) => {
                    let other = self.expr_arr(1);
                    Expr::ArrEq(Box::new(Expr::Var(v)), Box::new(other))
                }
                None => Expr::Even(Box::new(self.expr_u64(0))),
            },
            6 => match self.pick_var(Ty::ArrU64) {
                Some(v) => Expr::ArrContains(v, Box::new(self.expr_u64(d.saturating_sub(1)))),
                None => Expr::Even(Box::new(self.expr_u64(0))),
            },
            0 | 1 => Expr::Lt(
                Box::new(self.expr_u64(d.saturating_sub(1))),
                Box::new(self.expr_u64(d.saturating_sub(1))),
            ),
            2 => Expr::Even(Box::new(self.expr_u64(d.saturating_sub(1)))),
            3 => match self.pick_var(Ty::OptU64) {
                Some(v) => Expr::IsSome(v),
                None => Expr::Even(Box::new(self.expr_u64(0))),
            },
            _ => match self.pick_var(Ty::VecU64) {
                Some(v) => Expr::IsEmpty(v),
                None => Expr::Lt(Box::new(self.expr_u64(0)), Box::new(self.expr_u64(0))),
            },
        }
    }

    /// An operand expression of a `call!` (evaluated on every resume: no
    /// untyped locals).
    fn operand(&mut self, d: usize) -> Expr {
        let saved = self.in_call_operand;
        self.in_call_operand = true;
        let e = self.expr_u64(d);
        self.in_call_operand = saved;
        e
    }

    // ----- markers -----

    fn label(&mut self) -> Option<String> {
        if self.on("labels") && self.chance(15) {
            self.labels += 1;
            Some(format!("Lbl{}", self.labels))
        } else {
            None
        }
    }

    fn hand_place(&mut self) -> Option<VarId> {
        if self.plain || !self.on("hand-locals") || !self.chance(25) {
            return None;
        }
        match self.pick_var(Ty::Hand) {
            Some(h) if self.chance(60) => Some(h),
            _ => Some(self.pending_let(Ty::Hand)),
        }
    }

    /// A `call!` of type `ty` (`U64`, `Bool` or `OptU64`).
    fn call(&mut self, ty: Ty) -> Marker {
        let op = match ty {
            Ty::Bool => {
                let h = self.hand_place();
                let a = self.operand(1);
                let b = self.operand(1);
                CallOp::HandLt(h, a, b)
            }
            Ty::OptU64 => {
                let h = self.hand_place();
                let a = self.operand(1);
                let b = self.operand(1);
                CallOp::HandNext(h, a, b)
            }
            _ => {
                // A sub-operation's state local is no plain data.
                let sub_ok = !(self.plain && self.form == Form::Free);
                if self.n_subs > 0 && sub_ok && self.chance(55) {
                    let n = self.below(self.n_subs as u64) as usize;
                    let st = if self.form == Form::Free {
                        let existing = self.pick_var(Ty::SubState(n));
                        Some(match existing {
                            Some(v) if self.chance(60) => v,
                            _ => self.pending_let(Ty::SubState(n)),
                        })
                    } else {
                        None
                    };
                    let x = self.operand(1);
                    CallOp::Sub(n, st, x)
                } else {
                    let h = self.hand_place();
                    let x = self.operand(1);
                    CallOp::HandAdd(h, x)
                }
            }
        };
        let label = self.label();
        self.markers += 1;
        Marker {
            kind: MarkerKind::Call(op),
            label,
        }
    }

    /// A marker of type `()`.
    fn unit_marker(&mut self) -> Marker {
        let mut kinds = Vec::new();
        if self.on("wait") {
            kinds.extend(["wait", "wait", "wait"]);
        }
        if self.on("wait-all") {
            kinds.push("wait-all");
        }
        if self.on("yield") {
            kinds.push("yield");
        }
        if kinds.is_empty() {
            kinds.push("yield");
        }
        let k = self.pick(&kinds);
        let kind = match k {
            "wait" => {
                let c = if self.on("completion-locals") && self.chance(40) {
                    self.movable(Ty::Completion)
                } else {
                    None
                };
                match c {
                    Some(c) => {
                        self.st[c].own = Own::Moved;
                        MarkerKind::Wait(Expr::Var(c))
                    }
                    None => MarkerKind::Wait(Expr::Io(self.ids.io())),
                }
            }
            "wait-all" => {
                if self.chance(30) {
                    MarkerKind::WaitAllMap(self.below(4), self.ids.io())
                } else {
                    let n = 1 + self.below(3);
                    let mut cs = Vec::new();
                    for _ in 0..n {
                        let c = if self.on("completion-locals") && self.chance(30) {
                            self.movable(Ty::Completion)
                        } else {
                            None
                        };
                        cs.push(match c {
                            Some(c) => {
                                self.st[c].own = Own::Moved;
                                Expr::Var(c)
                            }
                            None => Expr::Io(self.ids.io()),
                        });
                    }
                    MarkerKind::WaitAll(cs)
                }
            }
            _ => MarkerKind::Yield,
        };
        let label = self.label();
        self.markers += 1;
        Marker { kind, label }
    }

    fn marker_stmt(&mut self) -> Marker {
        if self.on("call") && self.chance(35) {
            let ty = self.pick(&[Ty::U64, Ty::U64, Ty::Bool, Ty::OptU64]);
            self.call(ty)
        } else {
            self.unit_marker()
        }
    }

    // ----- values -----

    fn can_nest(&self) -> bool {
        self.depth < self.max_depth && self.budget > 0
    }

    /// A value of `ty` for a value position.
    fn value(&mut self, ty: Ty) -> Value {
        // Finding F6: a value construct holding a point in a loop.
        let construct = self.on("value-constructs")
            && (self.loops.is_empty() || self.on("value-construct-in-loop"))
            && self.can_nest()
            && self.chance(22);
        let marker_ok = self.on("call") && matches!(ty, Ty::U64 | Ty::Bool | Ty::OptU64);
        if construct {
            self.budget -= 1;
            self.depth += 1;
            self.in_value += 1;
            let v = match self.below(5) {
                0 => {
                    let n = self.below(3) as usize;
                    Value::Block(Box::new(self.block_n(n, Some(ty), true)))
                }
                1 | 2 if self.on("if") => self.value_if(ty),
                3 if self.on("match") => self.value_match(ty),
                4 if ty == Ty::U64
                    && self.on("loop")
                    && self.on("break-value")
                    && (self.in_value <= 1 || self.on("loop-in-value")) =>
                {
                    self.value_loop()
                }
                _ => {
                    let n = self.below(3) as usize;
                    Value::Block(Box::new(self.block_n(n, Some(ty), true)))
                }
            };
            self.depth -= 1;
            self.in_value -= 1;
            return v;
        }
        if marker_ok && self.chance(30) {
            return Value::Marker(Box::new(self.call(ty)));
        }
        if ty == Ty::Unit {
            return Value::Marker(Box::new(self.unit_marker()));
        }
        if ty == Ty::U64 && self.on("try") && self.chance(10) {
            return Value::Try(self.expr_u64(2));
        }
        Value::Expr(self.expr(ty, 2))
    }

    /// A value `if`; its else block is sometimes just another value `if`
    /// (printed `else if`).
    fn value_if(&mut self, ty: Ty) -> Value {
        let c = self.cond();
        let chain = self.on("else-if") && self.can_nest() && self.chance(20);
        let mut call = 0;
        let (t, e) = self.branches(|g| {
            call += 1;
            if chain && call == 2 {
                // The else branch.
                g.depth += 1;
                let v = g.value_if(ty);
                g.depth -= 1;
                Block {
                    stmts: Vec::new(),
                    tail: Some(Box::new(v)),
                }
            } else {
                g.block_n_tail(ty)
            }
        });
        Value::If(Box::new(c), Box::new(t), Box::new(e))
    }

    fn block_n_tail(&mut self, ty: Ty) -> Block {
        let n = self.below(3) as usize;
        self.block_n(n, Some(ty), true)
    }

    /// A condition (`if` or `while`): an expression or a `call!`.
    fn cond(&mut self) -> Value {
        if self.on("call") && self.chance(20) {
            Value::Marker(Box::new(self.call(Ty::Bool)))
        } else if self.on("value-constructs")
            && self.on("block-cond")
            && self.can_nest()
            && self.chance(5)
        {
            self.depth += 1;
            let n = self.below(2) as usize;
            let b = self.block_n(n, Some(Ty::Bool), true);
            self.depth -= 1;
            Value::Block(Box::new(b))
        } else {
            Value::Expr(self.expr_bool(2))
        }
    }

    /// Generates two branches with the ownership of each merged after.
    fn branches(&mut self, mut f: impl FnMut(&mut Self) -> Block) -> (Block, Block) {
        let snap = self.snapshot();
        let t = f(self);
        let after_t = self.snapshot();
        self.restore(&snap);
        let e = f(self);
        let after_e = self.snapshot();
        self.merge(&[after_t, after_e]);
        (t, e)
    }

    fn value_match(&mut self, ty: Ty) -> Value {
        let (scrut, opt) = self.scrutinee();
        let arms = self.arms(opt, |g| {
            if g.on("call") && matches!(ty, Ty::U64) && g.chance(25) {
                Value::Marker(Box::new(g.call(ty)))
            } else if g.chance(50) {
                Value::Block(Box::new(g.block_n_tail(ty)))
            } else {
                Value::Expr(g.expr(ty, 1))
            }
        });
        Value::Match(Box::new(scrut), arms)
    }

    /// A match scrutinee: `u64` or (second) `Option<u64>`.
    fn scrutinee(&mut self) -> (Value, bool) {
        let opt = self.chance(30);
        let ty = if opt { Ty::OptU64 } else { Ty::U64 };
        let v = if self.on("call") && self.chance(30) {
            Value::Marker(Box::new(self.call(ty)))
        } else if opt {
            Value::Expr(self.expr(Ty::OptU64, 1))
        } else {
            Value::Expr(Expr::Mod(Box::new(self.expr_u64(2)), 5))
        };
        (v, opt)
    }

    fn arms(&mut self, opt: bool, mut body: impl FnMut(&mut Self) -> Value) -> Vec<Arm> {
        let snap = self.snapshot();
        let mut outs = Vec::new();
        let mut arms = Vec::new();
        let n = 1 + self.below(3);
        let mut pats = Vec::new();
        if opt {
            pats.push(2u64); // Some(v)
            pats.push(3); // None
            if self.chance(30) {
                pats.insert(0, 4); // Some(v) if guard
            }
        } else {
            for _ in 0..n {
                pats.push(self.below(3)); // lit / range / bind-with-guard
            }
            pats.push(9); // catch-all
        }
        for p in pats {
            self.restore(&snap);
            self.frames.push(Frame::default());
            let (pat, guard) = match p {
                0 => (Pat::Lit(self.below(5)), None),
                1 => {
                    let a = self.below(4);
                    (Pat::Range(a, a + 1 + self.below(2)), None)
                }
                2 if !opt => {
                    let x = self.bind(false);
                    let g = Expr::Lt(Box::new(Expr::Var(x)), Box::new(self.expr_u64(1)));
                    (Pat::Bind(x), Some(g))
                }
                2 => {
                    let x = self.bind(false);
                    (Pat::SomeBind(x), None)
                }
                3 => (Pat::NoneP, None),
                4 => {
                    let x = self.bind(false);
                    let g = Expr::Even(Box::new(Expr::Var(x)));
                    (Pat::SomeBind(x), Some(g))
                }
                _ => {
                    if self.chance(40) {
                        let x = self.bind(false);
                        (Pat::Bind(x), None)
                    } else {
                        (Pat::Wild, None)
                    }
                }
            };
            let b = body(self);
            self.frames.pop();
            outs.push(self.snapshot());
            arms.push(Arm {
                pat,
                guard,
                body: b,
            });
        }
        self.restore(&snap);
        self.merge(&outs);
        arms
    }

    fn new_loop_label(&mut self) -> Option<String> {
        if self.on("labels") && self.chance(30) {
            self.loop_labels += 1;
            Some(format!("'l{}", self.loop_labels))
        } else {
            None
        }
    }

    fn counter(&mut self) -> VarId {
        let name = format!("k{}", self.vars.len());
        let v = self.new_var_named(name, Ty::U64, true);
        self.st[v].assignable = false;
        let i = self
            .frames
            .iter()
            .rposition(|f| f.block)
            .expect("BUG: no block frame");
        self.frames[i].vars.push(v);
        self.frames[i].pending.push(Stmt {
            cfg: None,
            kind: StmtKind::Let(v, Some(Value::Expr(Expr::Lit(0)))),
        });
        v
    }

    fn value_loop(&mut self) -> Value {
        let counter = self.counter();
        let label = self.new_loop_label();
        let head = LoopHead {
            label: label.clone(),
            counter,
            bound: 1 + self.below(3),
        };
        self.loops.push(LoopCx {
            label,
            value: true,
            markers: self.markers,
        });
        let n = 1 + self.below(3) as usize;
        let body = self.block_n(n, None, true);
        self.loops.pop();
        Value::Loop(Box::new(head), Box::new(body))
    }

    // ----- blocks and statements -----

    /// A block of about `n` statements; `tail`: its value's type.
    fn block_n(&mut self, n: usize, tail: Option<Ty>, _scoped: bool) -> Block {
        self.frames.push(Frame {
            block: true,
            markers: self.markers,
            ..Frame::default()
        });
        let mut stmts = Vec::new();
        for _ in 0..n {
            if self.budget <= 0 {
                break;
            }
            let s = self.stmt();
            let pending = std::mem::take(&mut self.frames.last_mut().expect("frame").pending);
            stmts.extend(pending);
            stmts.push(s);
        }
        let tail = tail.map(|ty| Box::new(self.value(ty)));
        let pending = std::mem::take(&mut self.frames.last_mut().expect("frame").pending);
        stmts.extend(pending);
        self.frames.pop();
        Block { stmts, tail }
    }

    /// A block that ends with `last` (generated after the others).
    fn block_then(&mut self, n: usize, last: &mut dyn FnMut(&mut Self) -> Option<Stmt>) -> Block {
        self.frames.push(Frame {
            block: true,
            markers: self.markers,
            ..Frame::default()
        });
        let mut stmts = Vec::new();
        for _ in 0..n {
            if self.budget <= 0 {
                break;
            }
            let s = self.stmt();
            let pending = std::mem::take(&mut self.frames.last_mut().expect("frame").pending);
            stmts.extend(pending);
            stmts.push(s);
        }
        let l = last(self);
        let pending = std::mem::take(&mut self.frames.last_mut().expect("frame").pending);
        stmts.extend(pending);
        if let Some(l) = l {
            stmts.push(l);
        }
        self.frames.pop();
        Block { stmts, tail: None }
    }

    fn small(&mut self) -> usize {
        1 + self.below(3) as usize
    }

    /// A diverging statement for the end of a block, if one fits here.
    fn diverge(&mut self, must: bool) -> Option<Stmt> {
        // Findings F17, F18: leaving an iteration from a block holding a
        // point.
        let block_markers = self
            .frames
            .iter()
            .rev()
            .find(|f| f.block)
            .map_or(self.markers, |f| f.markers);
        if !must
            && !self.on("diverge-after-point-in-loop")
            && !self.loops.is_empty()
            && self.markers > block_markers
        {
            return None;
        }
        let mut kinds = Vec::new();
        if self.on("return") {
            kinds.push(0);
        }
        if !self.loops.is_empty() {
            kinds.push(1);
            if self.on("continue") {
                kinds.push(2);
            }
        }
        if kinds.is_empty() {
            if !must {
                return None;
            }
            kinds.push(0);
        }
        let k = self.pick(&kinds);
        let kind = match k {
            0 => StmtKind::Return(self.expr_u64(2)),
            _ => {
                let inner = self.loops.len() - 1;
                let labelled: Vec<usize> = (0..self.loops.len())
                    .filter(|i| self.loops[*i].label.is_some())
                    .collect();
                // Finding F16: out of an inner loop that holds a point.
                let outer_ok =
                    self.on("outer-break-after-point") || self.loops[inner].markers == self.markers;
                let labelled: Vec<usize> = labelled
                    .into_iter()
                    .filter(|i| *i == inner || outer_ok)
                    .collect();
                let target = if self.on("labelled-break") && !labelled.is_empty() && self.chance(40)
                {
                    self.pick(&labelled)
                } else {
                    inner
                };
                let label = if target == inner && self.chance(50) {
                    None
                } else {
                    self.loops[target].label.clone()
                };
                if k == 1 {
                    let value = self.loops[target].value.then(|| self.expr_u64(1));
                    StmtKind::Break(label, value)
                } else {
                    StmtKind::Continue(label)
                }
            }
        };
        // Leaving only where a `#[cfg]` holds (never where the block must
        // diverge: an `else` of a `let`-`else`).
        let cfg = (!must && self.on("cfg") && self.on("cfg-diverge") && self.chance(25))
            .then(|| self.pick(&[Cfg::All, Cfg::Any, Cfg::NotAny]));
        Some(Stmt { cfg, kind })
    }

    fn stmt(&mut self) -> Stmt {
        self.budget -= 1;
        let compound = self.can_nest();
        let mut table: Vec<(u32, &'static str)> = vec![
            (26, "let"),
            (8, "assign"),
            (6, "log"),
            (6, "logval"),
            (3, "push"),
            (18, "marker"),
            (2, "touch"),
        ];
        let mut add = |w: u32, k: &'static str, ok: bool| {
            if ok {
                table.push((w, k));
            }
        };
        add(5, "move", self.on("moves") && self.on("noisy"));
        add(if self.plain { 12 } else { 8 }, "index-assign", self.arrays);
        add(10, "if", compound && self.on("if"));
        add(4, "if-let", compound && self.on("if-let"));
        add(5, "match", compound && self.on("match"));
        // Findings F18, F19: loops inside value constructs.
        let loops_ok = compound && (self.in_value == 0 || self.on("loop-in-value"));
        add(4, "loop", loops_ok && self.on("loop"));
        add(4, "while", loops_ok && self.on("while"));
        add(
            3,
            "while-call",
            loops_ok && self.on("while-call") && self.on("call"),
        );
        add(2, "while-let", loops_ok && self.on("while-let"));
        add(4, "for", loops_ok && self.on("for"));
        add(
            3,
            "let-else",
            compound
                && self.on("let-else")
                && (self.loops.is_empty() || self.on("let-else-in-loop")),
        );
        add(3, "block", compound && self.on("block"));
        add(4, "deferred", compound && self.on("deferred-init"));
        let total: u32 = table.iter().map(|(w, _)| w).sum();
        let mut r = self.below(u64::from(total)) as u32;
        let mut kind = "log";
        for (w, k) in &table {
            if r < *w {
                kind = k;
                break;
            }
            r -= w;
        }
        // No cfg on `let`s (a cfg'd-out one would hide its local) nor on
        // assignments (attributes are not allowed on them).
        let cfg = if self.on("cfg")
            && !matches!(
                kind,
                "let" | "deferred" | "let-else" | "assign" | "index-assign"
            )
            && (self.in_value == 0 || self.on("cfg-in-value"))
            && self.chance(7)
        {
            Some(self.pick(&[Cfg::All, Cfg::Any, Cfg::NotAny]))
        } else {
            None
        };
        let kind = if cfg.is_some() && kind == "move" {
            // A `let` under #[cfg] would hide its local.
            "move-nolet"
        } else {
            kind
        };
        if cfg == Some(Cfg::Any) {
            // Never compiled: whatever it does to the locals does not count.
            let snap = self.snapshot();
            self.no_let = true;
            let k = self.stmt_kind(kind);
            self.no_let = false;
            self.restore(&snap);
            if (!self.on("cfg-point") && has_marker(&k))
                || (!self.on("cfg-any-assign") && has_assign(&k))
            {
                // Findings F10, F11, F14.
                return Stmt {
                    cfg: None,
                    kind: StmtKind::Log(self.ids.stmt()),
                };
            }
            return Stmt { cfg, kind: k };
        }
        self.no_let = cfg.is_some();
        let k = self.stmt_kind(kind);
        self.no_let = false;
        // Findings F7, F11: with `--disable cfg-point`, no cfg on a
        // statement holding a point (a kept cfg changes nothing else).
        // Finding F20: an active cfg on a point in the right side of
        // `x += {..}` (`--disable cfg-point-in-compound`).
        let cfg = if has_marker(&k)
            && (!self.on("cfg-point") || (self.in_compound && !self.on("cfg-point-in-compound")))
        {
            None
        } else {
            cfg
        };
        Stmt { cfg, kind: k }
    }

    fn stmt_kind(&mut self, kind: &str) -> StmtKind {
        match kind {
            "let" => self.let_stmt(),
            "assign" => self.assign(),
            "index-assign" => self.index_assign(),
            "log" => StmtKind::Log(self.ids.stmt()),
            "logval" => {
                let mut tys = vec![
                    Ty::U64,
                    Ty::U64,
                    Ty::Str,
                    Ty::VecU64,
                    Ty::OptU64,
                    Ty::Noisy,
                    Ty::Tup,
                ];
                if self.arrays {
                    tys.extend([Ty::ArrU64, Ty::ArrU64]);
                }
                let ty = self.pick(&tys);
                match self.pick_var(ty).or_else(|| self.pick_var(Ty::U64)) {
                    Some(v) => StmtKind::LogVal(self.ids.stmt(), v),
                    None => StmtKind::Log(self.ids.stmt()),
                }
            }
            "push" => {
                if self.chance(50) {
                    if let Some(v) = self.pick_var(Ty::VecU64).filter(|v| self.st[*v].assignable) {
                        let e = self.expr_u64(1);
                        return StmtKind::Push(v, e);
                    }
                }
                match self.pick_var(Ty::Str).filter(|v| self.st[*v].assignable) {
                    Some(v) => StmtKind::PushStr(v),
                    None => StmtKind::Log(self.ids.stmt()),
                }
            }
            "marker" => StmtKind::Marker(self.marker_stmt()),
            "touch" => {
                // The main function's state, or (from a sub) its own.
                let own = self.chance(50);
                let field = match self.sub_index {
                    Some(n) if own => n + 1,
                    _ => 0,
                };
                StmtKind::Touch(self.ids.stmt(), field)
            }
            "move" | "move-nolet" => match self.movable(Ty::Noisy) {
                Some(n) => {
                    self.st[n].own = Own::Moved;
                    let options = if kind == "move" { 3 } else { 2 };
                    match self.below(options) {
                        0 => StmtKind::Drop(n),
                        1 => StmtKind::Consume(n),
                        _ => {
                            let m = self.declare(Ty::Noisy, true);
                            StmtKind::Let(m, Some(Value::Expr(Expr::Var(n))))
                        }
                    }
                }
                None if kind == "move" => self.let_stmt(),
                None => StmtKind::Log(self.ids.stmt()),
            },
            "if" => self.if_stmt(),
            "if-let" => {
                let sc = self.opt_scrutinee();
                self.depth += 1;
                let snap = self.snapshot();
                self.frames.push(Frame::default());
                let x = self.bind(false);
                let n = self.small();
                let t = self.block_then(n, &mut |g| {
                    if g.chance(15) {
                        g.diverge(false)
                    } else {
                        None
                    }
                });
                self.frames.pop();
                let _ = x;
                let after_t = self.snapshot();
                self.restore(&snap);
                let e = if self.chance(50) {
                    let n = self.small();
                    Some(self.block_n(n, None, true))
                } else {
                    None
                };
                let after_e = self.snapshot();
                self.merge(&[after_t, after_e]);
                self.depth -= 1;
                StmtKind::IfLet(x, sc, t, e)
            }
            "match" => {
                let (sc, opt) = self.scrutinee();
                self.depth += 1;
                let arms = self.arms(opt, |g| {
                    if g.chance(15) {
                        Value::Marker(Box::new(g.unit_marker()))
                    } else {
                        let n = g.small();
                        Value::Block(Box::new(g.block_then(n, &mut |g| {
                            if g.chance(10) {
                                g.diverge(false)
                            } else {
                                None
                            }
                        })))
                    }
                });
                self.depth -= 1;
                StmtKind::Match(sc, arms)
            }
            "loop" | "while" | "while-call" | "while-let" | "for" => self.loop_stmt(kind),
            "let-else" => {
                // Finding F12: a let-else whose point is its initializer.
                let sc = self.opt_scrutinee_of(self.on("let-else-call-init"));
                self.depth += 1;
                let snap = self.snapshot();
                let n = self.below(3) as usize;
                let b = self.block_then(n, &mut |g| g.diverge(true));
                self.restore(&snap);
                self.depth -= 1;
                let x = self.bind(false);
                StmtKind::LetElse(x, sc, b)
            }
            "block" => {
                self.depth += 1;
                let n = self.small();
                let b = self.block_n(n, None, true);
                self.depth -= 1;
                StmtKind::Block(b)
            }
            "deferred" => self.deferred(),
            _ => StmtKind::Log(self.ids.stmt()),
        }
    }

    fn opt_scrutinee(&mut self) -> Value {
        self.opt_scrutinee_of(true)
    }

    fn opt_scrutinee_of(&mut self, call_ok: bool) -> Value {
        if call_ok && self.on("call") && self.chance(35) {
            Value::Marker(Box::new(self.call(Ty::OptU64)))
        } else {
            Value::Expr(self.expr(Ty::OptU64, 1))
        }
    }

    fn let_stmt(&mut self) -> StmtKind {
        let mut tys = vec![
            Ty::U64,
            Ty::U64,
            Ty::U64,
            Ty::Str,
            Ty::VecU64,
            Ty::OptU64,
            Ty::Tup,
        ];
        if self.on("noisy") {
            tys.extend([Ty::Noisy, Ty::Noisy, Ty::Noisy]);
        }
        if self.on("completion-locals") {
            tys.push(Ty::Completion);
        }
        if self.arrays {
            tys.extend([Ty::ArrU64, Ty::ArrU64, Ty::ArrU64]);
        }
        if self.plain {
            tys = vec![
                Ty::U64,
                Ty::U64,
                Ty::U64,
                Ty::ArrU64,
                Ty::ArrU64,
                Ty::ArrU64,
            ];
        }
        if self.on("wait") && self.chance(3) {
            tys = vec![Ty::Unit];
        }
        let ty = self.pick(&tys);
        if ty == Ty::Tup && self.chance(40) {
            let e = self.expr(Ty::Tup, 2);
            let a = self.declare(Ty::U64, true);
            let b = self.declare(Ty::Str, true);
            if !self.on("tuple-mut") {
                self.st[a].assignable = false;
                self.st[b].assignable = false;
            }
            return StmtKind::LetTuple(a, b, e);
        }
        let init = match ty {
            Ty::U64 | Ty::OptU64 | Ty::ArrU64 => self.value(ty),
            Ty::Unit => Value::Marker(Box::new(self.unit_marker())),
            Ty::Str | Ty::VecU64 if self.on("moves") && self.chance(15) => match self.movable(ty) {
                Some(v) => {
                    self.st[v].own = Own::Moved;
                    Value::Expr(Expr::Var(v))
                }
                None => Value::Expr(self.expr(ty, 2)),
            },
            _ => Value::Expr(self.expr(ty, 2)),
        };
        let v = self.declare(ty, true);
        StmtKind::Let(v, Some(init))
    }

    fn assign(&mut self) -> StmtKind {
        let ty = if self.plain {
            self.pick(&[Ty::U64, Ty::U64, Ty::ArrU64])
        } else if self.arrays {
            self.pick(&[Ty::U64, Ty::U64, Ty::U64, Ty::OptU64, Ty::Str, Ty::ArrU64])
        } else {
            self.pick(&[Ty::U64, Ty::U64, Ty::U64, Ty::OptU64, Ty::Str])
        };
        let vs = self.assignable(ty);
        if vs.is_empty() {
            return self.instead_of_assign();
        }
        let var = self.pick(&vs);
        let compound = ty == Ty::U64 && self.chance(40);
        let outer = self.in_compound;
        self.in_compound |= compound;
        let value = self.value(ty);
        self.in_compound = outer;
        StmtKind::Assign {
            var,
            compound,
            init: false,
            value,
        }
    }

    /// The typed locals of `ty` that may be assigned here.
    fn assignable(&self, ty: Ty) -> Vec<VarId> {
        self.usable_of(ty)
            .into_iter()
            .filter(|v| self.st[*v].assignable && self.st[*v].typed)
            .collect()
    }

    /// What stands where an assignment has no local to assign.
    fn instead_of_assign(&mut self) -> StmtKind {
        if self.no_let {
            StmtKind::Log(self.ids.stmt())
        } else {
            self.let_stmt()
        }
    }

    /// `r[i] = v;` or `r[i] += v;` on an array local.
    fn index_assign(&mut self) -> StmtKind {
        let vs = self.assignable(Ty::ArrU64);
        if vs.is_empty() {
            return self.instead_of_assign();
        }
        let var = self.pick(&vs);
        let compound = self.chance(40);
        let outer = self.in_compound;
        self.in_compound |= compound;
        let value = self.value(Ty::U64);
        self.in_compound = outer;
        // The right side is evaluated first, then the place: generated
        // after the value, the index uses no pattern binding bound before
        // a point in the value (it would be live across it).
        let index = if self.chance(25) {
            Expr::Lit(self.below(4))
        } else {
            self.expr_u64(1)
        };
        StmtKind::IndexAssign {
            var,
            index,
            compound,
            value,
        }
    }

    fn if_stmt(&mut self) -> StmtKind {
        let c = self.cond();
        self.depth += 1;
        let snap = self.snapshot();
        let n = self.small();
        let t = self.block_then(n, &mut |g| {
            if g.chance(25) {
                g.diverge(false)
            } else {
                None
            }
        });
        let after_t = self.snapshot();
        self.restore(&snap);
        let e = if self.on("else-if") && self.can_nest() && self.chance(15) {
            // `else if ..` (a block holding just the inner `if`).
            self.frames.push(Frame {
                block: true,
                markers: self.markers,
                ..Frame::default()
            });
            let inner = self.if_stmt();
            let mut stmts = std::mem::take(&mut self.frames.last_mut().expect("frame").pending);
            self.frames.pop();
            stmts.push(Stmt {
                cfg: None,
                kind: inner,
            });
            Some(Block { stmts, tail: None })
        } else if self.chance(50) {
            let n = self.small();
            Some(self.block_n(n, None, true))
        } else {
            None
        };
        let after_e = self.snapshot();
        self.merge(&[after_t, after_e]);
        self.depth -= 1;
        StmtKind::If(c, t, e)
    }

    fn loop_stmt(&mut self, kind: &str) -> StmtKind {
        let bound = 1 + self.below(3);
        let label = self.new_loop_label();
        let (lk, counter) = match kind {
            "loop" => (LoopKind::Loop, self.counter()),
            "while" => (LoopKind::While, self.counter()),
            "while-call" => {
                let counter = self.counter();
                let h = self.hand_place();
                let l = self.label();
                self.markers += 1;
                (LoopKind::WhileCall(h, l), counter)
            }
            "while-let" => {
                let counter = self.counter();
                if self.on("call") && self.chance(40) {
                    let h = self.hand_place();
                    let l = self.label();
                    self.markers += 1;
                    (LoopKind::WhileLetCall(usize::MAX, h, l), counter)
                } else {
                    (LoopKind::WhileLet(usize::MAX), counter)
                }
            }
            _ => {
                if !self.plain && self.chance(40) {
                    // Over a `Vec<u64>` local, which the loop moves: one
                    // that can be moved here, or a fresh one.
                    let v = match self.movable(Ty::VecU64) {
                        Some(v) if self.chance(50) => v,
                        _ => {
                            let init = self.expr(Ty::VecU64, 1);
                            let v = self.pending_let(Ty::VecU64);
                            let i = self
                                .frames
                                .iter()
                                .rposition(|f| f.block)
                                .expect("BUG: no block frame");
                            if let Some(Stmt {
                                kind: StmtKind::Let(_, Some(val)),
                                ..
                            }) = self.frames[i].pending.last_mut()
                            {
                                *val = Value::Expr(init);
                            }
                            v
                        }
                    };
                    self.st[v].own = Own::Moved;
                    (LoopKind::ForVec(usize::MAX, v), usize::MAX)
                } else {
                    (LoopKind::ForRange(usize::MAX), usize::MAX)
                }
            }
        };
        self.depth += 1;
        let snap = self.snapshot();
        self.loops.push(LoopCx {
            label: label.clone(),
            value: false,
            markers: self.markers,
        });
        self.frames.push(Frame::default());
        let lk = match lk {
            LoopKind::WhileLet(_) => LoopKind::WhileLet(self.bind(false)),
            LoopKind::WhileLetCall(_, h, l) => LoopKind::WhileLetCall(self.bind(false), h, l),
            LoopKind::ForRange(_) => LoopKind::ForRange(self.bind(true)),
            LoopKind::ForVec(_, v) => LoopKind::ForVec(self.bind(false), v),
            other => other,
        };
        let counter = match lk {
            LoopKind::ForRange(x) | LoopKind::ForVec(x, _) => x,
            _ => counter,
        };
        let n = self.small();
        let body = self.block_then(n, &mut |g| {
            if g.chance(10) {
                g.diverge(false)
            } else {
                None
            }
        });
        self.frames.pop();
        self.loops.pop();
        // A loop body runs any number of times: what it moved is moved.
        let after = self.snapshot();
        self.restore(&snap);
        self.merge(&[after]);
        self.depth -= 1;
        StmtKind::Loop(
            LoopHead {
                label,
                counter,
                bound,
            },
            lk,
            body,
        )
    }

    /// `let x: T;` and an `if`/`match` that assigns it on every branch;
    /// returns the `let`, and queues the construct right after it.
    fn deferred(&mut self) -> StmtKind {
        let ty = if self.plain {
            self.pick(&[Ty::U64, Ty::U64, Ty::ArrU64])
        } else if self.arrays {
            self.pick(&[Ty::U64, Ty::U64, Ty::OptU64, Ty::ArrU64])
        } else {
            self.pick(&[Ty::U64, Ty::U64, Ty::OptU64])
        };
        let x = self.declare(ty, true);
        self.st[x].own = Own::Uninit;
        self.reserved.push(self.vars[x].name.clone());
        self.depth += 1;
        let mut assign = |g: &mut Self| {
            let value = g.value(ty);
            Some(Stmt {
                cfg: None,
                kind: StmtKind::Assign {
                    var: x,
                    compound: false,
                    init: true,
                    value,
                },
            })
        };
        let construct = if self.on("match") && self.chance(35) {
            let (sc, opt) = self.scrutinee();
            let arms = self.arms(opt, |g| {
                let n = g.below(2) as usize;
                Value::Block(Box::new(g.block_then(n, &mut assign)))
            });
            StmtKind::Match(sc, arms)
        } else {
            let c = self.cond();
            let (t, e) = self.branches(|g| {
                let n = g.below(3) as usize;
                g.block_then(n, &mut assign)
            });
            StmtKind::If(c, t, Some(e))
        };
        self.depth -= 1;
        self.reserved.pop();
        self.st[x].own = Own::Owned;
        // The construct goes right after the `let` (pending statements are
        // flushed before the statement being built, so queue the `let`
        // and return the construct instead).
        let i = self
            .frames
            .iter()
            .rposition(|f| f.block)
            .expect("BUG: no block frame");
        self.frames[i].pending.push(Stmt {
            cfg: None,
            kind: StmtKind::Let(x, None),
        });
        construct
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_depends_only_on_seed_and_index() {
        let c = GenConfig::default();
        assert_eq!(generate(3, 7, &c), generate(3, 7, &c));
        assert_ne!(generate(3, 7, &c), generate(3, 8, &c));
        assert_ne!(generate(3, 7, &c), generate(4, 7, &c));
    }

    /// With `shadow-across-point` off, no program has a shadowing the
    /// transform rejects (F8), also where its liveness is coarser than the
    /// oracle's. Among seed 1's first 100 000 programs, five (34620, 36168,
    /// 60740, 92427, 97696) had one before the transform was asked.
    #[test]
    fn no_program_has_a_shadowing_the_transform_rejects() {
        let c = GenConfig {
            disabled: ["shadow-across-point".to_string()].into(),
            ..GenConfig::default()
        };
        for i in [34620, 36168, 60740, 92427, 97696].into_iter().chain(0..60) {
            let p = generate(1, i, &c);
            let src = crate::emit::resumable_source(&p);
            assert_eq!(
                shadowing_errors(&src),
                BTreeSet::new(),
                "seed 1 program {i}"
            );
        }
        // And the check sees one where there is one.
        let shadowed = include_str!("../regressions/f8_shadowed_local_live_across_point.rs");
        assert_eq!(
            shadowing_errors(shadowed),
            BTreeSet::from(["w".to_string()])
        );
    }

    #[test]
    fn programs_print_in_both_forms() {
        let c = GenConfig::default();
        for i in 0..300 {
            let p = generate(11, i, &c);
            let m = crate::emit::module(&p, "p", "");
            assert!(m.text.contains("#[io_model::resumable"), "program {i}");
            assert!(
                m.oracle_line > 1 && m.text.contains("pub mod oracle"),
                "program {i}"
            );
        }
    }

    #[test]
    fn disabled_constructs_are_not_generated() {
        let c = GenConfig {
            disabled: ["cfg", "labels", "methods"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ..GenConfig::default()
        };
        for i in 0..200 {
            let p = generate(5, i, &c);
            let text = crate::emit::module(&p, "p", "").text;
            assert_eq!(p.form, Form::Free, "program {i}");
            assert!(!text.contains("#[cfg("), "program {i}");
            assert!(!text.contains("Lbl"), "program {i}");
        }
    }
}
