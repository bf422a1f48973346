fn balance(
    st: &mut BalanceState,
    p: &mut Pager,
    children: &[u32],
) -> Result<IOResult<u32>> {
    #[allow(unused_imports)]
    use ::io_model::__private as __io_rt;
    let __io_s: &mut BalanceState = {
        let __io_p: &mut BalanceState = &mut *st;
        __io_p
    };
    __io_rt::trace_start!(__io_at, (* __io_s).name());
    #[allow(clippy::redundant_closure_call)]
    let __io_ret: Result<IOResult<u32>> = (|| -> Result<IOResult<u32>> {
        let mut __io_m4: ::core::option::Option<u32> = __io_rt::None;
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
                BalanceState::Idle => {
                    (*__io_s) = BalanceState::__Poisoned;
                    {
                        let mut sum: u32 = 0;
                        let mut sub: LoadChild = LoadChild::Start;
                        {
                            let mut __io_iter0 = ::core::iter::IntoIterator::into_iter(
                                0..children.len(),
                            );
                            '__io_exit3: {
                                let idx = match ::core::iter::Iterator::next(
                                    &mut __io_iter0,
                                ) {
                                    ::core::option::Option::Some(__io_item) => __io_item,
                                    ::core::option::Option::None => break '__io_exit3,
                                };
                                {
                                    {
                                        __io_rt::trace_to!(__io_at, "balance", "Call0", 6usize);
                                        {
                                            (*__io_s) = BalanceState::Call0 {
                                                idx: idx,
                                                __io_iter0: __io_iter0,
                                                sub: sub,
                                                sum: sum,
                                            };
                                            continue '__io_dispatch;
                                        }
                                    }
                                }
                            };
                            {
                                __io_m4 = __io_rt::Some(sum);
                                (*__io_s) = BalanceState::__Merge0;
                                continue '__io_dispatch;
                            }
                        }
                    }
                }
                BalanceState::Call0 { .. } => {
                    let BalanceState::Call0 {
                        idx: __io_b6,
                        __io_iter0: __io_b0,
                        sub: __io_b5,
                        sum: __io_b4,
                    } = __io_rt::replace(&mut (*__io_s), BalanceState::__Poisoned) else {
                        __io_rt::unreachable!()
                    };
                    {
                        let mut sum = __io_b4;
                        let mut sub = __io_b5;
                        {
                            let mut __io_iter0 = __io_b0;
                            '__io_exit3: {
                                '__io_next3: {
                                    let idx = __io_b6;
                                    {
                                        match match ::io_model::__private::operation(
                                            load_child(&mut sub, p, children[idx]),
                                        ) {
                                            ::core::result::Result::Ok(
                                                ::io_model::IOResult::Done(__io_v),
                                            ) => __io_v,
                                            ::core::result::Result::Ok(
                                                ::io_model::IOResult::IO(__io_io),
                                            ) => {
                                                (*__io_s) = BalanceState::Call0 {
                                                    idx: idx,
                                                    __io_iter0: __io_iter0,
                                                    sub: sub,
                                                    sum: sum,
                                                };
                                                return __io_rt::Ok(__io_rt::IOResult::IO(__io_io));
                                            }
                                            ::core::result::Result::Err(__io_e) => {
                                                return __io_rt::Err(
                                                    ::io_model::__private::operation_error(__io_e),
                                                );
                                            }
                                        } {
                                            0 => break '__io_next3,
                                            v => sum += v,
                                        }
                                    }
                                };
                                {
                                    let idx = match ::core::iter::Iterator::next(
                                        &mut __io_iter0,
                                    ) {
                                        ::core::option::Option::Some(__io_item) => __io_item,
                                        ::core::option::Option::None => break '__io_exit3,
                                    };
                                    {
                                        {
                                            __io_rt::trace_to!(__io_at, "balance", "Call0", 6usize);
                                            {
                                                (*__io_s) = BalanceState::Call0 {
                                                    idx: idx,
                                                    __io_iter0: __io_iter0,
                                                    sub: sub,
                                                    sum: sum,
                                                };
                                                continue '__io_dispatch;
                                            }
                                        }
                                    }
                                }
                            };
                            {
                                __io_m4 = __io_rt::Some(sum);
                                (*__io_s) = BalanceState::__Merge0;
                                continue '__io_dispatch;
                            }
                        }
                    }
                }
                BalanceState::__Merge0 => {
                    (*__io_s) = BalanceState::__Poisoned;
                    {
                        let mut sum = __io_rt::carried(&mut __io_m4);
                        {}
                        {
                            __io_m4 = __io_rt::Some(sum);
                            (*__io_s) = BalanceState::__Merge1;
                            continue '__io_dispatch;
                        }
                    }
                }
                BalanceState::__Merge1 => {
                    (*__io_s) = BalanceState::__Poisoned;
                    {
                        let mut sum = __io_rt::carried(&mut __io_m4);
                        return Ok(IOResult::Done(sum));
                    }
                }
                BalanceState::__Poisoned => {
                    ::core::panic!(
                        "`balance` was called again after a panic interrupted an earlier call (or while another call on the same state is running), so its state `BalanceState` is poisoned; call `.cancel()` on the state (or reset it to `BalanceState::default()`) to start a new run"
                    )
                }
            }
        }
    })();
    __io_rt::trace_end!(__io_at, "balance", & __io_ret);
    if let BalanceState::__Poisoned = *__io_s {
        *__io_s = BalanceState::Idle;
    }
    __io_ret
}
/// The state of `balance` between calls: idle, or the suspension point it waits at with the locals it holds there. Generated by `#[io_model::resumable]`.
#[allow(
    private_interfaces,
    missing_docs,
    clippy::large_enum_variant,
    non_camel_case_types
)]
enum BalanceState {
    /// Not running: the next call starts a new run.
    Idle,
    /// Suspended at the `call!` on line 6; holds `idx: usize`, `__io_iter0: ::core::ops::Range<usize>`, `sub: LoadChild`, `sum: u32`.
    Call0 {
        /// The local `idx`.
        idx: usize,
        /// The iterator of the `for` loop on line 5.
        __io_iter0: ::core::ops::Range<usize>,
        /// The local `sub`.
        sub: LoadChild,
        /// The local `sum`.
        sum: u32,
    },
    #[doc(hidden)]
    __Merge0,
    #[doc(hidden)]
    __Merge1,
    #[doc(hidden)]
    __Poisoned,
}
#[automatically_derived]
impl ::core::default::Default for BalanceState {
    fn default() -> Self {
        BalanceState::Idle
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for BalanceState {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.write_str(self.name())
    }
}
#[allow(dead_code)]
impl BalanceState {
    /// The state graph of `balance` in Graphviz DOT: one node per state a run can rest in (`Idle` and each suspension point, with its marker and line), the exits `Done` and `Err`, and an edge wherever a run can go from one to the other. Render it with `dot -Tsvg`.
    pub const GRAPH: &'static str = "digraph BalanceState {\n  label=\"balance\";\n  Idle [shape=circle];\n  Call0 [shape=box, label=\"Call0\\ncall! line 6\"];\n  Done [shape=doublecircle];\n  Err [shape=doublecircle];\n  Idle -> Call0;\n  Idle -> Done;\n  Call0 -> Call0;\n  Call0 -> Done;\n  Call0 -> Err;\n}\n";
    /// The name of the current state: `"Idle"`, a suspension point's
    /// variant, or `"Poisoned"` after a panic (or while a call runs).
    pub fn name(&self) -> &'static str {
        match self {
            BalanceState::Idle => "Idle",
            BalanceState::Call0 { .. } => "Call0",
            BalanceState::__Merge0 => "Running",
            BalanceState::__Merge1 => "Running",
            BalanceState::__Poisoned => "Poisoned",
        }
    }
    /// Whether no run is in progress.
    pub fn is_idle(&self) -> bool {
        ::core::matches!(self, BalanceState::Idle)
    }
    /// Abandons the current run: aborts the completion the state
    /// waits for, if any, drops the stored locals (in reverse order
    /// of declaration) and returns to idle.
    pub fn cancel(&mut self) {
        #[allow(unreachable_patterns)]
        match self {
            _ => {}
        }
        *self = BalanceState::Idle;
    }
}
