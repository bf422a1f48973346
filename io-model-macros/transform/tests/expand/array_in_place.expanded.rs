fn fill_page(st: &mut FillPageState, d: &Disk, seed: u64) -> Result<IOResult<u64>> {
    #[allow(unused_imports)]
    use ::io_model::__private as __io_rt;
    let __io_s: &mut FillPageState = {
        let __io_p: &mut FillPageState = &mut *st;
        #[allow(unreachable_patterns)]
        match &*__io_p {
            FillPageState::Wait0 { __io_c, __io_run: false, .. }
            | FillPageState::Wait1 { __io_c, __io_run: false, .. } => {
                if let __io_rt::Some(__io_y) = __io_rt::pending(__io_c) {
                    return __io_rt::suspended(__io_y);
                }
            }
            _ => {}
        }
        __io_p
    };
    __io_rt::trace_start!(__io_at, (* __io_s).name());
    #[allow(clippy::redundant_closure_call)]
    let __io_ret: Result<IOResult<u64>> = (|| -> Result<IOResult<u64>> {
        let mut __io_m4: ::core::option::Option<[u8; 4096]> = __io_rt::None;
        #[allow(
            unreachable_code,
            unused_mut,
            unused_variables,
            unused_assignments,
            unused_braces,
            unused_parens,
            unused_labels,
            clippy::needless_return,
            clippy::never_loop,
            clippy::let_unit_value,
            clippy::unused_unit,
            clippy::needless_late_init
        )]
        '__io_dispatch: loop {
            match (*__io_s) {
                FillPageState::Idle => {
                    (*__io_s) = FillPageState::__Poisoned;
                    {
                        let mut page: [u8; 4096] = [0; 4096];
                        {
                            let mut __io_iter0 = ::core::iter::IntoIterator::into_iter(
                                0..4usize,
                            );
                            '__io_exit2: {
                                let k = match ::core::iter::Iterator::next(
                                    &mut __io_iter0,
                                ) {
                                    ::core::option::Option::Some(__io_item) => __io_item,
                                    ::core::option::Option::None => break '__io_exit2,
                                };
                                {
                                    let c = d.read(k);
                                    {
                                        __io_rt::trace_to!(__io_at, "fill_page", "Wait0", 6usize);
                                        {
                                            let __io_c = ::io_model::__private::waitable(c);
                                            let __io_y = __io_rt::pending(&__io_c);
                                            (*__io_s) = FillPageState::Wait0 {
                                                k: k,
                                                page: page,
                                                __io_c: __io_c,
                                                __io_run: false,
                                            };
                                            if let __io_rt::Some(__io_y) = __io_y {
                                                return __io_rt::suspended(__io_y);
                                            }
                                            continue '__io_dispatch;
                                        }
                                    }
                                }
                            };
                            {
                                __io_m4 = __io_rt::Some(page);
                                (*__io_s) = FillPageState::__Merge0;
                                continue '__io_dispatch;
                            }
                        }
                    }
                }
                FillPageState::Wait0 {
                    k: ref mut __io_b5,
                    page: ref mut __io_b4,
                    __io_c: ref mut __io_cr,
                    __io_run: ref mut __io_run,
                } => {
                    if *__io_run {
                        ::core::panic!(
                            "`fill_page` was called again after a panic interrupted an earlier call (or while another call on the same state is running), so its state `FillPageState` is poisoned; call `.cancel()` on the state (or reset it to `FillPageState::default()`) to start a new run"
                        );
                    }
                    *__io_run = true;
                    let __io_c: &::io_model::Completion = &*__io_cr;
                    {
                        {
                            let mut __io_iter0 = ((*__io_b5 + 1)..4usize);
                            '__io_exit2: {
                                {
                                    let k = *__io_b5;
                                    {
                                        {
                                            if let __io_rt::Some(__io_e) = __io_rt::Completion::get_error(
                                                &__io_c,
                                            ) {
                                                return __io_rt::Err(
                                                    ::io_model::__private::completion_error(__io_e),
                                                );
                                            }
                                        };
                                        let v = d.value(seed + k as u64);
                                        (*__io_b4)[k * 1024..k * 1024 + 8]
                                            .copy_from_slice(&v.to_le_bytes());
                                    }
                                }
                                {
                                    let k = match ::core::iter::Iterator::next(
                                        &mut __io_iter0,
                                    ) {
                                        ::core::option::Option::Some(__io_item) => __io_item,
                                        ::core::option::Option::None => break '__io_exit2,
                                    };
                                    {
                                        let c = d.read(k);
                                        {
                                            __io_rt::trace_to!(__io_at, "fill_page", "Wait0", 6usize);
                                            {
                                                let __io_c = ::io_model::__private::waitable(c);
                                                let __io_y = __io_rt::pending(&__io_c);
                                                *__io_b5 = k;
                                                *__io_cr = __io_c;
                                                *__io_run = false;
                                                if let __io_rt::Some(__io_y) = __io_y {
                                                    return __io_rt::suspended(__io_y);
                                                }
                                                continue '__io_dispatch;
                                            }
                                        }
                                    }
                                }
                            };
                            {
                                __io_m4 = __io_rt::Some((*__io_b4));
                                (*__io_s) = FillPageState::__Merge0;
                                continue '__io_dispatch;
                            }
                        }
                    }
                }
                FillPageState::__Merge0 => {
                    (*__io_s) = FillPageState::__Poisoned;
                    {
                        let mut page = __io_rt::carried(&mut __io_m4);
                        {}
                        let w = d.write(&page);
                        {
                            __io_rt::trace_to!(__io_at, "fill_page", "Wait1", 11usize);
                            {
                                let __io_c = ::io_model::__private::waitable(w);
                                let __io_y = __io_rt::pending(&__io_c);
                                (*__io_s) = FillPageState::Wait1 {
                                    page: page,
                                    __io_c: __io_c,
                                    __io_run: false,
                                };
                                if let __io_rt::Some(__io_y) = __io_y {
                                    return __io_rt::suspended(__io_y);
                                }
                                continue '__io_dispatch;
                            }
                        }
                    }
                }
                FillPageState::Wait1 {
                    page: ref mut __io_b4,
                    __io_c: ref mut __io_cr,
                    __io_run: ref mut __io_run,
                } => {
                    if *__io_run {
                        ::core::panic!(
                            "`fill_page` was called again after a panic interrupted an earlier call (or while another call on the same state is running), so its state `FillPageState` is poisoned; call `.cancel()` on the state (or reset it to `FillPageState::default()`) to start a new run"
                        );
                    }
                    *__io_run = true;
                    let __io_c: &::io_model::Completion = &*__io_cr;
                    {
                        {
                            if let __io_rt::Some(__io_e) = __io_rt::Completion::get_error(
                                &__io_c,
                            ) {
                                return __io_rt::Err(
                                    ::io_model::__private::completion_error(__io_e),
                                );
                            }
                        };
                        return Ok(IOResult::Done(digest(&(*__io_b4))));
                    }
                }
                FillPageState::__Poisoned => {
                    ::core::panic!(
                        "`fill_page` was called again after a panic interrupted an earlier call (or while another call on the same state is running), so its state `FillPageState` is poisoned; call `.cancel()` on the state (or reset it to `FillPageState::default()`) to start a new run"
                    )
                }
            }
        }
    })();
    __io_rt::trace_end!(__io_at, "fill_page", & __io_ret);
    if let FillPageState::__Poisoned
    | FillPageState::Wait0 { __io_run: true, .. }
    | FillPageState::Wait1 { __io_run: true, .. } = *__io_s {
        *__io_s = FillPageState::Idle;
    }
    __io_ret
}
/// The state of `fill_page` between calls: idle, or the suspension point it waits at with the locals it holds there. Generated by `#[io_model::resumable]`.
#[allow(
    private_interfaces,
    missing_docs,
    clippy::large_enum_variant,
    non_camel_case_types
)]
enum FillPageState {
    /// Not running: the next call starts a new run.
    Idle,
    /// Suspended at the `wait!` on line 6; holds `k: usize`, `page: [u8 ; 4096]`.
    Wait0 {
        /// The local `k`.
        k: usize,
        /// The local `page`.
        page: [u8; 4096],
        /// The completion waited for.
        __io_c: ::io_model::Completion,
        #[doc(hidden)]
        __io_run: bool,
    },
    /// Suspended at the `wait!` on line 11; holds `page: [u8 ; 4096]`.
    Wait1 {
        /// The local `page`.
        page: [u8; 4096],
        /// The completion waited for.
        __io_c: ::io_model::Completion,
        #[doc(hidden)]
        __io_run: bool,
    },
    #[doc(hidden)]
    __Merge0,
    #[doc(hidden)]
    __Poisoned,
}
#[automatically_derived]
impl ::core::default::Default for FillPageState {
    fn default() -> Self {
        FillPageState::Idle
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for FillPageState {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.write_str(self.name())
    }
}
#[allow(dead_code)]
impl FillPageState {
    /// The state graph of `fill_page` in Graphviz DOT: one node per state a run can rest in (`Idle` and each suspension point, with its marker and line), the exits `Done` and `Err`, and an edge wherever a run can go from one to the other. Render it with `dot -Tsvg`.
    pub const GRAPH: &'static str = "digraph FillPageState {\n  label=\"fill_page\";\n  Idle [shape=circle];\n  Wait0 [shape=box, label=\"Wait0\\nwait! line 6\"];\n  Wait1 [shape=box, label=\"Wait1\\nwait! line 11\"];\n  Done [shape=doublecircle];\n  Err [shape=doublecircle];\n  Idle -> Wait0;\n  Idle -> Wait1;\n  Wait0 -> Wait0;\n  Wait0 -> Wait1;\n  Wait0 -> Err;\n  Wait1 -> Done;\n  Wait1 -> Err;\n}\n";
    /// The name of the current state: `"Idle"`, a suspension point's
    /// variant, or `"Poisoned"` after a panic (or while a call runs).
    pub fn name(&self) -> &'static str {
        match self {
            FillPageState::Idle => "Idle",
            FillPageState::Wait0 { __io_run: true, .. } => "Poisoned",
            FillPageState::Wait0 { .. } => "Wait0",
            FillPageState::Wait1 { __io_run: true, .. } => "Poisoned",
            FillPageState::Wait1 { .. } => "Wait1",
            FillPageState::__Merge0 => "Running",
            FillPageState::__Poisoned => "Poisoned",
        }
    }
    /// Whether no run is in progress.
    pub fn is_idle(&self) -> bool {
        ::core::matches!(self, FillPageState::Idle)
    }
    /// Abandons the current run: aborts the completion the state
    /// waits for, if any, drops the stored locals (in reverse order
    /// of declaration) and returns to idle.
    pub fn cancel(&mut self) {
        #[allow(unreachable_patterns)]
        match self {
            FillPageState::Wait0 { __io_c, .. } => ::io_model::Completion::abort(__io_c),
            FillPageState::Wait1 { __io_c, .. } => ::io_model::Completion::abort(__io_c),
            _ => {}
        }
        *self = FillPageState::Idle;
    }
}
