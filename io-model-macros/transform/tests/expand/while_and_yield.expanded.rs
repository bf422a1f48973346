fn count_down(st: &mut CountDownState, s: &Sched, from: u32) -> Result<IOResult<u32>> {
    let __io_resume = {
        let __io_p: &mut CountDownState = &mut *st;
        if let CountDownState::Wait0 { __io_c, .. } = &*__io_p {
            if !::io_model::Completion::finished(__io_c) {
                return ::core::result::Result::Ok(
                    ::io_model::IOResult::IO(
                        ::io_model::IOCompletions::Single(
                            ::core::clone::Clone::clone(__io_c),
                        ),
                    ),
                );
            }
        }
        ::core::mem::replace(__io_p, CountDownState::__Poisoned)
    };
    let mut __io_next = CountDownState::Idle;
    #[allow(clippy::redundant_closure_call)]
    let __io_ret: Result<IOResult<u32>> = (|| -> Result<IOResult<u32>> {
        match __io_resume {
            CountDownState::Idle => {
                let mut n: u32 = from;
                let mut sum: u32 = 0;
                loop {
                    if n > 0 {
                        let c = s.io(n);
                        {
                            let __io_c: ::io_model::Completion = ::io_model::__private::waitable(
                                c,
                            );
                            if !::io_model::Completion::finished(&__io_c) {
                                __io_next = CountDownState::Wait0 {
                                    n: n,
                                    sum: sum,
                                    __io_c: ::core::clone::Clone::clone(&__io_c),
                                };
                                return ::core::result::Result::Ok(
                                    ::io_model::IOResult::IO(
                                        ::io_model::IOCompletions::Single(__io_c),
                                    ),
                                );
                            }
                            if let ::core::option::Option::Some(__io_e) = ::io_model::Completion::get_error(
                                &__io_c,
                            ) {
                                return ::core::result::Result::Err(
                                    ::io_model::__private::completion_error(__io_e),
                                );
                            }
                        };
                        sum += n;
                        n -= 1;
                    } else {
                        break;
                    }
                }
                {
                    if ::io_model::__private::suspend() {
                        __io_next = CountDownState::Yield0 { sum: sum };
                        return ::core::result::Result::Ok(
                            ::io_model::IOResult::IO(
                                ::io_model::IOCompletions::Single(
                                    ::io_model::Completion::new_yield(),
                                ),
                            ),
                        );
                    }
                };
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
            CountDownState::Wait0 { n: __io_b0, sum: __io_b1, __io_c: __io_c } => {
                let mut n = __io_b0;
                let mut sum = __io_b1;
                '__io_loop0: {
                    '__io_next0: {
                        {
                            {
                                if let ::core::option::Option::Some(__io_e) = ::io_model::Completion::get_error(
                                    &__io_c,
                                ) {
                                    return ::core::result::Result::Err(
                                        ::io_model::__private::completion_error(__io_e),
                                    );
                                }
                            };
                            sum += n;
                            n -= 1;
                        }
                    }
                    loop {
                        if n > 0 {
                            let c = s.io(n);
                            {
                                let __io_c: ::io_model::Completion = ::io_model::__private::waitable(
                                    c,
                                );
                                if !::io_model::Completion::finished(&__io_c) {
                                    __io_next = CountDownState::Wait0 {
                                        n: n,
                                        sum: sum,
                                        __io_c: ::core::clone::Clone::clone(&__io_c),
                                    };
                                    return ::core::result::Result::Ok(
                                        ::io_model::IOResult::IO(
                                            ::io_model::IOCompletions::Single(__io_c),
                                        ),
                                    );
                                }
                                if let ::core::option::Option::Some(__io_e) = ::io_model::Completion::get_error(
                                    &__io_c,
                                ) {
                                    return ::core::result::Result::Err(
                                        ::io_model::__private::completion_error(__io_e),
                                    );
                                }
                            };
                            sum += n;
                            n -= 1;
                        } else {
                            break;
                        }
                    }
                }
                {
                    if ::io_model::__private::suspend() {
                        __io_next = CountDownState::Yield0 { sum: sum };
                        return ::core::result::Result::Ok(
                            ::io_model::IOResult::IO(
                                ::io_model::IOCompletions::Single(
                                    ::io_model::Completion::new_yield(),
                                ),
                            ),
                        );
                    }
                };
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
            CountDownState::Yield0 { sum: __io_b1 } => {
                let mut sum = __io_b1;
                ();
                Ok(IOResult::Done(sum))
            }
            CountDownState::__Poisoned => {
                ::core::panic!(
                    "`count_down` was called again after a panic interrupted an earlier call, so its state `CountDownState` is poisoned; call `.cancel()` on the state (or reset it to `CountDownState::default()`) to start a new run"
                )
            }
        }
    })();
    {
        let __io_p: &mut CountDownState = &mut *st;
        *__io_p = __io_next;
    }
    __io_ret
}
/// The state of `count_down` between calls: idle, or the suspension point it waits at with the locals it holds there. Generated by `#[io_model::resumable]`.
#[allow(private_interfaces, missing_docs, clippy::large_enum_variant)]
enum CountDownState {
    /// Not running: the next call starts a new run.
    Idle,
    /// Suspended at the `wait!` on line 7; holds `n: u32`, `sum: u32`.
    Wait0 {
        /// The local `n`.
        n: u32,
        /// The local `sum`.
        sum: u32,
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
    /// The name of the current state: `"Idle"`, a suspension point's
    /// variant, or `"Poisoned"` after a panic.
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
    /// waits for, if any, drops the stored locals and returns to idle.
    pub fn cancel(&mut self) {
        if let CountDownState::Wait0 { __io_c, .. } = self {
            ::io_model::Completion::abort(__io_c);
        }
        *self = CountDownState::Idle;
    }
}
