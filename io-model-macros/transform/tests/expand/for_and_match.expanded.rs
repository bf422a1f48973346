fn balance(
    st: &mut BalanceState,
    p: &mut Pager,
    children: &[u32],
) -> Result<IOResult<u32>> {
    let __io_resume = {
        let __io_p: &mut BalanceState = &mut *st;
        ::core::mem::replace(__io_p, BalanceState::__Poisoned)
    };
    let mut __io_next = BalanceState::Idle;
    #[allow(clippy::redundant_closure_call)]
    let __io_ret: Result<IOResult<u32>> = (|| -> Result<IOResult<u32>> {
        match __io_resume {
            BalanceState::Idle => {
                let mut sum: u32 = 0;
                let mut sub: LoadChild = LoadChild::Start;
                {
                    let mut __io_iter0 = ::core::iter::IntoIterator::into_iter(
                        0..children.len(),
                    );
                    loop {
                        let idx = match ::core::iter::Iterator::next(&mut __io_iter0) {
                            ::core::option::Option::Some(__io_item) => __io_item,
                            ::core::option::Option::None => break,
                        };
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
                                    __io_next = BalanceState::Call0 {
                                        sum: sum,
                                        sub: sub,
                                        __io_iter0: __io_iter0,
                                        idx: idx,
                                    };
                                    return ::core::result::Result::Ok(
                                        ::io_model::IOResult::IO(__io_io),
                                    );
                                }
                                ::core::result::Result::Err(__io_e) => {
                                    return ::core::result::Result::Err(
                                        ::io_model::__private::operation_error(__io_e),
                                    );
                                }
                            } {
                                0 => continue,
                                v => sum += v,
                            }
                        }
                    }
                }
                Ok(IOResult::Done(sum))
            }
            #[allow(
                unreachable_code,
                unused_mut,
                unused_variables,
                unused_assignments,
                unused_braces,
                unused_parens,
                unused_labels
            )]
            BalanceState::Call0 {
                sum: __io_b0,
                sub: __io_b1,
                __io_iter0: __io_b2,
                idx: __io_b3,
            } => {
                let mut sum = __io_b0;
                let mut sub = __io_b1;
                {
                    let mut __io_iter0 = __io_b2;
                    '__io_loop0: {
                        '__io_next0: {
                            let idx = __io_b3;
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
                                        __io_next = BalanceState::Call0 {
                                            sum: sum,
                                            sub: sub,
                                            __io_iter0: __io_iter0,
                                            idx: idx,
                                        };
                                        return ::core::result::Result::Ok(
                                            ::io_model::IOResult::IO(__io_io),
                                        );
                                    }
                                    ::core::result::Result::Err(__io_e) => {
                                        return ::core::result::Result::Err(
                                            ::io_model::__private::operation_error(__io_e),
                                        );
                                    }
                                } {
                                    0 => break '__io_next0,
                                    v => sum += v,
                                }
                            }
                        }
                        loop {
                            let idx = match ::core::iter::Iterator::next(
                                &mut __io_iter0,
                            ) {
                                ::core::option::Option::Some(__io_item) => __io_item,
                                ::core::option::Option::None => break,
                            };
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
                                        __io_next = BalanceState::Call0 {
                                            sum: sum,
                                            sub: sub,
                                            __io_iter0: __io_iter0,
                                            idx: idx,
                                        };
                                        return ::core::result::Result::Ok(
                                            ::io_model::IOResult::IO(__io_io),
                                        );
                                    }
                                    ::core::result::Result::Err(__io_e) => {
                                        return ::core::result::Result::Err(
                                            ::io_model::__private::operation_error(__io_e),
                                        );
                                    }
                                } {
                                    0 => continue,
                                    v => sum += v,
                                }
                            }
                        }
                    }
                }
                Ok(IOResult::Done(sum))
            }
            BalanceState::__Poisoned => {
                ::core::panic!(
                    "`balance` was called again after a panic interrupted an earlier call, so its state `BalanceState` is poisoned; call `.cancel()` on the state (or reset it to `BalanceState::default()`) to start a new run"
                )
            }
        }
    })();
    {
        let __io_p: &mut BalanceState = &mut *st;
        *__io_p = __io_next;
    }
    __io_ret
}
/// The state of `balance` between calls: idle, or the suspension point it waits at with the locals it holds there. Generated by `#[io_model::resumable]`.
#[allow(private_interfaces, missing_docs, clippy::large_enum_variant)]
enum BalanceState {
    /// Not running: the next call starts a new run.
    Idle,
    /// Suspended at the `call!` on line 6; holds `sum: u32`, `sub: LoadChild`, `__io_iter0: ::core::ops::Range<usize>`, `idx: usize`.
    Call0 {
        /// The local `sum`.
        sum: u32,
        /// The local `sub`.
        sub: LoadChild,
        /// The iterator of the `for` loop on line 5.
        __io_iter0: ::core::ops::Range<usize>,
        /// The local `idx`.
        idx: usize,
    },
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
    /// The name of the current state: `"Idle"`, a suspension point's
    /// variant, or `"Poisoned"` after a panic.
    pub fn name(&self) -> &'static str {
        match self {
            BalanceState::Idle => "Idle",
            BalanceState::Call0 { .. } => "Call0",
            BalanceState::__Poisoned => "Poisoned",
        }
    }
    /// Whether no run is in progress.
    pub fn is_idle(&self) -> bool {
        ::core::matches!(self, BalanceState::Idle)
    }
    /// Abandons the current run: aborts the completion the state
    /// waits for, if any, drops the stored locals and returns to idle.
    pub fn cancel(&mut self) {
        *self = BalanceState::Idle;
    }
}
