fn sum_pages(st: &mut SumPagesState, s: &Store, n: u32) -> Result<IOResult<u64>> {
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
                        let mut i: u32 = 0;
                        let mut sum: u64 = 0;
                        '__io_exit3: {
                            if i < n {
                                let c = s.read(i);
                                {
                                    __io_rt::trace_to!(__io_at, "sum_pages", "Wait0", 7usize);
                                    {
                                        let __io_c = ::io_model::__private::waitable(c);
                                        let __io_y = __io_rt::pending(&__io_c);
                                        (*__io_s) = SumPagesState::Wait0 {
                                            sum: sum,
                                            i: i,
                                            __io_c: __io_c,
                                        };
                                        if let __io_rt::Some(__io_y) = __io_y {
                                            return __io_rt::suspended(__io_y);
                                        }
                                        continue '__io_dispatch;
                                    }
                                }
                            } else {
                                break '__io_exit3;
                            }
                        };
                        {
                            __io_rt::trace_to!(__io_at, "sum_pages", "Call0", 11usize);
                            {
                                (*__io_s) = SumPagesState::Call0 { sum: sum };
                                continue '__io_dispatch;
                            }
                        }
                    }
                }
                SumPagesState::Wait0 { .. } => {
                    let SumPagesState::Wait0 {
                        sum: __io_b4,
                        i: __io_b3,
                        __io_c: __io_c,
                    } = __io_rt::replace(&mut (*__io_s), SumPagesState::__Poisoned) else {
                        __io_rt::unreachable!()
                    };
                    {
                        let mut i = __io_b3;
                        let mut sum = __io_b4;
                        '__io_exit3: {
                            {
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
                                    sum += s.value(i);
                                    i += 1;
                                }
                            }
                            {
                                if i < n {
                                    let c = s.read(i);
                                    {
                                        __io_rt::trace_to!(__io_at, "sum_pages", "Wait0", 7usize);
                                        {
                                            let __io_c = ::io_model::__private::waitable(c);
                                            let __io_y = __io_rt::pending(&__io_c);
                                            (*__io_s) = SumPagesState::Wait0 {
                                                sum: sum,
                                                i: i,
                                                __io_c: __io_c,
                                            };
                                            if let __io_rt::Some(__io_y) = __io_y {
                                                return __io_rt::suspended(__io_y);
                                            }
                                            continue '__io_dispatch;
                                        }
                                    }
                                } else {
                                    break '__io_exit3;
                                }
                            }
                        };
                        {
                            __io_rt::trace_to!(__io_at, "sum_pages", "Call0", 11usize);
                            {
                                (*__io_s) = SumPagesState::Call0 { sum: sum };
                                continue '__io_dispatch;
                            }
                        }
                    }
                }
                SumPagesState::Call0 { .. } => {
                    let SumPagesState::Call0 { sum: __io_b4 } = __io_rt::replace(
                        &mut (*__io_s),
                        SumPagesState::__Poisoned,
                    ) else { __io_rt::unreachable!() };
                    {
                        let mut sum = __io_b4;
                        let total: u64 = match ::io_model::__private::operation(
                            s.flush(sum),
                        ) {
                            ::core::result::Result::Ok(
                                ::io_model::IOResult::Done(__io_v),
                            ) => __io_v,
                            ::core::result::Result::Ok(
                                ::io_model::IOResult::IO(__io_io),
                            ) => {
                                (*__io_s) = SumPagesState::Call0 { sum: sum };
                                return __io_rt::Ok(__io_rt::IOResult::IO(__io_io));
                            }
                            ::core::result::Result::Err(__io_e) => {
                                return __io_rt::Err(
                                    ::io_model::__private::operation_error(__io_e),
                                );
                            }
                        };
                        return Ok(IOResult::Done(total));
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
    /// Suspended at the `wait!` on line 7; holds `sum: u64`, `i: u32`.
    Wait0 {
        /// The local `sum`.
        sum: u64,
        /// The local `i`.
        i: u32,
        /// The completion waited for.
        __io_c: ::io_model::Completion,
    },
    /// Suspended at the `call!` on line 11; holds `sum: u64`.
    Call0 {
        /// The local `sum`.
        sum: u64,
    },
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
    pub const GRAPH: &'static str = "digraph SumPagesState {\n  label=\"sum_pages\";\n  Idle [shape=circle];\n  Wait0 [shape=box, label=\"Wait0\\nwait! line 7\"];\n  Call0 [shape=box, label=\"Call0\\ncall! line 11\"];\n  Done [shape=doublecircle];\n  Err [shape=doublecircle];\n  Idle -> Wait0;\n  Idle -> Call0;\n  Wait0 -> Wait0;\n  Wait0 -> Call0;\n  Wait0 -> Err;\n  Call0 -> Call0;\n  Call0 -> Done;\n  Call0 -> Err;\n}\n";
    /// The name of the current state: `"Idle"`, a suspension point's
    /// variant, or `"Poisoned"` after a panic (or while a call runs).
    pub fn name(&self) -> &'static str {
        match self {
            SumPagesState::Idle => "Idle",
            SumPagesState::Wait0 { .. } => "Wait0",
            SumPagesState::Call0 { .. } => "Call0",
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
