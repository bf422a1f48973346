fn sum_pages(
    st: &mut SumPagesState,
    io: &Pager,
    pages: Vec<u64>,
    label: String,
) -> Result<IOResult<u64>> {
    #[allow(unused_imports)]
    use ::io_model::__private as __io_rt;
    let __io_s: &mut SumPagesState = {
        let __io_p: &mut SumPagesState = &mut *st;
        #[allow(unreachable_patterns)]
        match &*__io_p {
            SumPagesState::Wait0 { __io_c, .. } => {
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
        let mut __io_m5: ::core::option::Option<u64> = __io_rt::None;
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
                SumPagesState::Idle => {
                    (*__io_s) = SumPagesState::__Poisoned;
                    {
                        let mut sum: u64 = 0;
                        {
                            let mut __io_iter0 = ::core::iter::IntoIterator::into_iter(
                                0..pages.len(),
                            );
                            '__io_exit2: {
                                let k = match ::core::iter::Iterator::next(
                                    &mut __io_iter0,
                                ) {
                                    ::core::option::Option::Some(__io_item) => __io_item,
                                    ::core::option::Option::None => break '__io_exit2,
                                };
                                {
                                    let c = io.read(pages[k])?;
                                    {
                                        __io_rt::trace_to!(__io_at, "sum_pages", "Wait0", 6usize);
                                        {
                                            let __io_c = ::io_model::__private::waitable(c);
                                            let __io_y = __io_rt::pending(&__io_c);
                                            (*__io_s) = SumPagesState::Wait0 {
                                                k: k,
                                                __io_iter0: __io_iter0,
                                                sum: sum,
                                                __io_c: __io_c,
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
                                __io_m5 = __io_rt::Some(sum);
                                (*__io_s) = SumPagesState::__Merge0;
                                continue '__io_dispatch;
                            }
                        }
                    }
                }
                SumPagesState::Wait0 { .. } => {
                    let SumPagesState::Wait0 {
                        k: __io_b6,
                        __io_iter0: __io_b0,
                        sum: __io_b5,
                        __io_c: __io_c,
                    } = __io_rt::replace(&mut (*__io_s), SumPagesState::__Poisoned) else {
                        __io_rt::unreachable!()
                    };
                    {
                        let mut sum = __io_b5;
                        {
                            let mut __io_iter0 = __io_b0;
                            '__io_exit2: {
                                {
                                    let k = __io_b6;
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
                                        sum += io.value(pages[k]);
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
                                        let c = io.read(pages[k])?;
                                        {
                                            __io_rt::trace_to!(__io_at, "sum_pages", "Wait0", 6usize);
                                            {
                                                let __io_c = ::io_model::__private::waitable(c);
                                                let __io_y = __io_rt::pending(&__io_c);
                                                (*__io_s) = SumPagesState::Wait0 {
                                                    k: k,
                                                    __io_iter0: __io_iter0,
                                                    sum: sum,
                                                    __io_c: __io_c,
                                                };
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
                                __io_m5 = __io_rt::Some(sum);
                                (*__io_s) = SumPagesState::__Merge0;
                                continue '__io_dispatch;
                            }
                        }
                    }
                }
                SumPagesState::__Merge0 => {
                    (*__io_s) = SumPagesState::__Poisoned;
                    {
                        let mut sum = __io_rt::carried(&mut __io_m5);
                        {}
                        io.log(&label);
                        return Ok(IOResult::Done(sum + pages[0]));
                    }
                }
                SumPagesState::__Poisoned => {
                    ::core::panic!(
                        "`sum_pages` was called again after a panic interrupted an earlier call (or while another call on the same state is running), so its state `SumPagesState` is poisoned; call `.cancel()` on the state (or reset it to `SumPagesState::default()`) to start a new run"
                    )
                }
            }
        }
    })();
    __io_rt::trace_end!(__io_at, "sum_pages", & __io_ret);
    if let SumPagesState::__Poisoned = *__io_s {
        *__io_s = SumPagesState::Idle;
    }
    __io_ret
}
/// The state of `sum_pages` between calls: idle, or the suspension point it waits at with the locals it holds there. Generated by `#[io_model::resumable]`.
#[allow(
    private_interfaces,
    missing_docs,
    clippy::large_enum_variant,
    non_camel_case_types
)]
enum SumPagesState {
    /// Not running: the next call starts a new run.
    Idle,
    /// Suspended at the `wait!` on line 6; holds `k: usize`, `__io_iter0: ::core::ops::Range<usize>`, `sum: u64`.
    Wait0 {
        /// The local `k`.
        k: usize,
        /// The iterator of the `for` loop on line 4.
        __io_iter0: ::core::ops::Range<usize>,
        /// The local `sum`.
        sum: u64,
        /// The completion waited for.
        __io_c: ::io_model::Completion,
    },
    #[doc(hidden)]
    __Merge0,
    #[doc(hidden)]
    __Poisoned,
}
#[automatically_derived]
impl ::core::default::Default for SumPagesState {
    fn default() -> Self {
        SumPagesState::Idle
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for SumPagesState {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.write_str(self.name())
    }
}
#[allow(dead_code)]
impl SumPagesState {
    /// The state graph of `sum_pages` in Graphviz DOT: one node per state a run can rest in (`Idle` and each suspension point, with its marker and line), the exits `Done` and `Err`, and an edge wherever a run can go from one to the other. Render it with `dot -Tsvg`.
    pub const GRAPH: &'static str = "digraph SumPagesState {\n  label=\"sum_pages\";\n  Idle [shape=circle];\n  Wait0 [shape=box, label=\"Wait0\\nwait! line 6\"];\n  Done [shape=doublecircle];\n  Err [shape=doublecircle];\n  Idle -> Wait0;\n  Idle -> Done;\n  Idle -> Err;\n  Wait0 -> Wait0;\n  Wait0 -> Done;\n  Wait0 -> Err;\n}\n";
    /// The name of the current state: `"Idle"`, a suspension point's
    /// variant, or `"Poisoned"` after a panic (or while a call runs).
    pub fn name(&self) -> &'static str {
        match self {
            SumPagesState::Idle => "Idle",
            SumPagesState::Wait0 { .. } => "Wait0",
            SumPagesState::__Merge0 => "Running",
            SumPagesState::__Poisoned => "Poisoned",
        }
    }
    /// Whether no run is in progress.
    pub fn is_idle(&self) -> bool {
        ::core::matches!(self, SumPagesState::Idle)
    }
    /// Abandons the current run: aborts the completion the state
    /// waits for, if any, drops the stored locals (in reverse order
    /// of declaration) and returns to idle.
    pub fn cancel(&mut self) {
        #[allow(unreachable_patterns)]
        match self {
            SumPagesState::Wait0 { __io_c, .. } => ::io_model::Completion::abort(__io_c),
            _ => {}
        }
        *self = SumPagesState::Idle;
    }
}
