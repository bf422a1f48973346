fn count_down(st: &mut CountDownState, s: &Sched, from: u32) -> Result<IOResult<u32>> {
    #[allow(unused_imports)]
    use ::io_model::__private as __io_rt;
    let __io_s: &mut CountDownState = {
        let __io_p: &mut CountDownState = &mut *st;
        #[allow(unreachable_patterns)]
        match &*__io_p {
            CountDownState::Wait0 { __io_c, .. } => {
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
    let __io_ret: Result<IOResult<u32>> = (|| -> Result<IOResult<u32>> {
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
                CountDownState::Idle => {
                    (*__io_s) = CountDownState::__Poisoned;
                    {
                        let mut n: u32 = from;
                        let mut sum: u32 = 0;
                        '__io_exit3: {
                            if n > 0 {
                                let c = s.io(n);
                                {
                                    __io_rt::trace_to!(__io_at, "count_down", "Wait0", 7usize);
                                    {
                                        let __io_c = ::io_model::__private::waitable(c);
                                        let __io_y = __io_rt::pending(&__io_c);
                                        (*__io_s) = CountDownState::Wait0 {
                                            sum: sum,
                                            n: n,
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
                            __io_rt::trace_to!(__io_at, "count_down", "Yield0", 11usize);
                            {
                                (*__io_s) = CountDownState::Yield0 { sum: sum };
                                return __io_rt::yielded();
                            }
                        }
                    }
                }
                CountDownState::Wait0 { .. } => {
                    let CountDownState::Wait0 {
                        sum: __io_b4,
                        n: __io_b3,
                        __io_c: __io_c,
                    } = __io_rt::replace(&mut (*__io_s), CountDownState::__Poisoned)
                    else { __io_rt::unreachable!() };
                    {
                        let mut n = __io_b3;
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
                                    sum += n;
                                    n -= 1;
                                }
                            }
                            {
                                if n > 0 {
                                    let c = s.io(n);
                                    {
                                        __io_rt::trace_to!(__io_at, "count_down", "Wait0", 7usize);
                                        {
                                            let __io_c = ::io_model::__private::waitable(c);
                                            let __io_y = __io_rt::pending(&__io_c);
                                            (*__io_s) = CountDownState::Wait0 {
                                                sum: sum,
                                                n: n,
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
                            __io_rt::trace_to!(__io_at, "count_down", "Yield0", 11usize);
                            {
                                (*__io_s) = CountDownState::Yield0 { sum: sum };
                                return __io_rt::yielded();
                            }
                        }
                    }
                }
                CountDownState::Yield0 { .. } => {
                    let CountDownState::Yield0 { sum: __io_b4 } = __io_rt::replace(
                        &mut (*__io_s),
                        CountDownState::__Poisoned,
                    ) else { __io_rt::unreachable!() };
                    {
                        let mut sum = __io_b4;
                        ();
                        return Ok(IOResult::Done(sum));
                    }
                }
                CountDownState::__Poisoned => {
                    ::core::panic!(
                        "`count_down` was called again after a panic interrupted an earlier call (or while another call on the same state is running), so its state `CountDownState` is poisoned; call `.cancel()` on the state (or reset it to `CountDownState::default()`) to start a new run"
                    )
                }
            }
        }
    })();
    __io_rt::trace_end!(__io_at, "count_down", & __io_ret);
    if let CountDownState::__Poisoned = *__io_s {
        *__io_s = CountDownState::Idle;
    }
    __io_ret
}
/// The state of `count_down` between calls: idle, or the suspension point it waits at with the locals it holds there. Generated by `#[io_model::resumable]`.
#[allow(
    private_interfaces,
    missing_docs,
    clippy::large_enum_variant,
    non_camel_case_types
)]
enum CountDownState {
    /// Not running: the next call starts a new run.
    Idle,
    /// Suspended at the `wait!` on line 7; holds `sum: u32`, `n: u32`.
    Wait0 {
        /// The local `sum`.
        sum: u32,
        /// The local `n`.
        n: u32,
        /// The completion waited for.
        __io_c: ::io_model::Completion,
    },
    /// Suspended at the `yield_now!` on line 11; holds `sum: u32`.
    Yield0 {
        /// The local `sum`.
        sum: u32,
    },
    #[doc(hidden)]
    __Poisoned,
}
#[automatically_derived]
impl ::core::default::Default for CountDownState {
    fn default() -> Self {
        CountDownState::Idle
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for CountDownState {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.write_str(self.name())
    }
}
#[allow(dead_code)]
impl CountDownState {
    /// The state graph of `count_down` in Graphviz DOT: one node per state a run can rest in (`Idle` and each suspension point, with its marker and line), the exits `Done` and `Err`, and an edge wherever a run can go from one to the other. Render it with `dot -Tsvg`.
    pub const GRAPH: &'static str = "digraph CountDownState {\n  label=\"count_down\";\n  Idle [shape=circle];\n  Wait0 [shape=box, label=\"Wait0\\nwait! line 7\"];\n  Yield0 [shape=box, label=\"Yield0\\nyield_now! line 11\"];\n  Done [shape=doublecircle];\n  Err [shape=doublecircle];\n  Idle -> Wait0;\n  Idle -> Yield0;\n  Wait0 -> Wait0;\n  Wait0 -> Yield0;\n  Wait0 -> Err;\n  Yield0 -> Done;\n}\n";
    /// The name of the current state: `"Idle"`, a suspension point's
    /// variant, or `"Poisoned"` after a panic (or while a call runs).
    pub fn name(&self) -> &'static str {
        match self {
            CountDownState::Idle => "Idle",
            CountDownState::Wait0 { .. } => "Wait0",
            CountDownState::Yield0 { .. } => "Yield0",
            CountDownState::__Poisoned => "Poisoned",
        }
    }
    /// Whether no run is in progress.
    pub fn is_idle(&self) -> bool {
        ::core::matches!(self, CountDownState::Idle)
    }
    /// Abandons the current run: aborts the completion the state
    /// waits for, if any, drops the stored locals (in reverse order
    /// of declaration) and returns to idle.
    pub fn cancel(&mut self) {
        #[allow(unreachable_patterns)]
        match self {
            CountDownState::Wait0 { __io_c, .. } => ::io_model::Completion::abort(__io_c),
            _ => {}
        }
        *self = CountDownState::Idle;
    }
}
