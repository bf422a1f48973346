impl Reader {
    fn read_two(&mut self, a: u64, b: u64) -> Result<IOResult<u64>> {
        #[allow(unused_imports)]
        use ::io_model::__private as __io_rt;
        let mut __io_s: ReadTwoState = {
            let __io_p: &mut ReadTwoState = ::io_model::__private::state::<
                ReadTwoState,
                _,
            >(&mut self.read_two);
            #[allow(unreachable_patterns)]
            match &*__io_p {
                ReadTwoState::Wait0 { __io_c, .. } => {
                    if let __io_rt::Some(__io_y) = __io_rt::pending(__io_c) {
                        return __io_rt::suspended(__io_y);
                    }
                }
                _ => {}
            }
            ::core::mem::replace(__io_p, ReadTwoState::__Poisoned)
        };
        __io_rt::trace_start!(__io_at, __io_s.name());
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
                match __io_s {
                    ReadTwoState::Idle => {
                        __io_s = ReadTwoState::__Poisoned;
                        {
                            {
                                __io_rt::trace_to!(__io_at, "read_two", "Call0", 5usize);
                                {
                                    __io_s = ReadTwoState::Call0 {};
                                    continue '__io_dispatch;
                                }
                            }
                        }
                    }
                    ReadTwoState::Call0 {} => {
                        __io_s = ReadTwoState::__Poisoned;
                        {
                            let first: u64 = match ::io_model::__private::operation(
                                self.read_one(a),
                            ) {
                                ::core::result::Result::Ok(
                                    ::io_model::IOResult::Done(__io_v),
                                ) => __io_v,
                                ::core::result::Result::Ok(
                                    ::io_model::IOResult::IO(__io_io),
                                ) => {
                                    __io_s = ReadTwoState::Call0 {};
                                    return __io_rt::Ok(__io_rt::IOResult::IO(__io_io));
                                }
                                ::core::result::Result::Err(__io_e) => {
                                    return __io_rt::Err(
                                        ::io_model::__private::operation_error(__io_e),
                                    );
                                }
                            };
                            let c = Completion::new_sync(|_| {});
                            {
                                __io_rt::trace_to!(__io_at, "read_two", "Wait0", 7usize);
                                {
                                    let __io_c = ::io_model::__private::waitable(
                                        self.file.sync(c)?,
                                    );
                                    let __io_y = __io_rt::pending(&__io_c);
                                    __io_s = ReadTwoState::Wait0 {
                                        first: first,
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
                    ReadTwoState::Wait0 { .. } => {
                        let ReadTwoState::Wait0 { first: __io_b2, __io_c: __io_c } = __io_rt::replace(
                            &mut __io_s,
                            ReadTwoState::__Poisoned,
                        ) else { __io_rt::unreachable!() };
                        {
                            let first = __io_b2;
                            {
                                if let __io_rt::Some(__io_e) = __io_rt::Completion::get_error(
                                    &__io_c,
                                ) {
                                    return __io_rt::Err(
                                        ::io_model::__private::completion_error(__io_e),
                                    );
                                }
                            };
                            self.total += first;
                            {
                                __io_rt::trace_to!(__io_at, "read_two", "Call1", 9usize);
                                {
                                    __io_s = ReadTwoState::Call1 {
                                        first: first,
                                    };
                                    continue '__io_dispatch;
                                }
                            }
                        }
                    }
                    ReadTwoState::Call1 { .. } => {
                        let ReadTwoState::Call1 { first: __io_b2 } = __io_rt::replace(
                            &mut __io_s,
                            ReadTwoState::__Poisoned,
                        ) else { __io_rt::unreachable!() };
                        {
                            let first = __io_b2;
                            let second: u64 = match ::io_model::__private::operation(
                                self.read_one(b),
                            ) {
                                ::core::result::Result::Ok(
                                    ::io_model::IOResult::Done(__io_v),
                                ) => __io_v,
                                ::core::result::Result::Ok(
                                    ::io_model::IOResult::IO(__io_io),
                                ) => {
                                    __io_s = ReadTwoState::Call1 {
                                        first: first,
                                    };
                                    return __io_rt::Ok(__io_rt::IOResult::IO(__io_io));
                                }
                                ::core::result::Result::Err(__io_e) => {
                                    return __io_rt::Err(
                                        ::io_model::__private::operation_error(__io_e),
                                    );
                                }
                            };
                            return Ok(IOResult::Done(first + second));
                        }
                    }
                    ReadTwoState::__Poisoned => {
                        ::core::panic!(
                            "`read_two` was called again after a panic interrupted an earlier call (or while another call on the same state is running), so its state `ReadTwoState` is poisoned; call `.cancel()` on the state (or reset it to `ReadTwoState::default()`) to start a new run"
                        )
                    }
                }
            }
        })();
        __io_rt::trace_end!(__io_at, "read_two", & __io_ret);
        {
            let __io_p: &mut ReadTwoState = ::io_model::__private::state::<
                ReadTwoState,
                _,
            >(&mut self.read_two);
            *__io_p = match __io_s {
                ReadTwoState::__Poisoned => ReadTwoState::Idle,
                __io_next => __io_next,
            };
        }
        __io_ret
    }
}
/// The state of `read_two` between calls: idle, or the suspension point it waits at with the locals it holds there. Generated by `#[io_model::resumable]`.
#[allow(
    private_interfaces,
    missing_docs,
    clippy::large_enum_variant,
    non_camel_case_types
)]
enum ReadTwoState {
    /// Not running: the next call starts a new run.
    Idle,
    /// Suspended at the `call!` on line 5; holds no locals.
    Call0 {},
    /// Suspended at the `wait!` on line 7; holds `first: u64`.
    Wait0 {
        /// The local `first`.
        first: u64,
        /// The completion waited for.
        __io_c: ::io_model::Completion,
    },
    /// Suspended at the `call!` on line 9; holds `first: u64`.
    Call1 {
        /// The local `first`.
        first: u64,
    },
    #[doc(hidden)]
    __Poisoned,
}
#[automatically_derived]
impl ::core::default::Default for ReadTwoState {
    fn default() -> Self {
        ReadTwoState::Idle
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for ReadTwoState {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.write_str(self.name())
    }
}
#[allow(dead_code)]
impl ReadTwoState {
    /// The state graph of `read_two` in Graphviz DOT: one node per state a run can rest in (`Idle` and each suspension point, with its marker and line), the exits `Done` and `Err`, and an edge wherever a run can go from one to the other. Render it with `dot -Tsvg`.
    pub const GRAPH: &'static str = "digraph ReadTwoState {\n  label=\"read_two\";\n  Idle [shape=circle];\n  Call0 [shape=box, label=\"Call0\\ncall! line 5\"];\n  Wait0 [shape=box, label=\"Wait0\\nwait! line 7\"];\n  Call1 [shape=box, label=\"Call1\\ncall! line 9\"];\n  Done [shape=doublecircle];\n  Err [shape=doublecircle];\n  Idle -> Call0;\n  Call0 -> Call0;\n  Call0 -> Wait0;\n  Call0 -> Err;\n  Wait0 -> Call1;\n  Wait0 -> Err;\n  Call1 -> Call1;\n  Call1 -> Done;\n  Call1 -> Err;\n}\n";
    /// The name of the current state: `"Idle"`, a suspension point's
    /// variant, or `"Poisoned"` after a panic (or while a call runs).
    pub fn name(&self) -> &'static str {
        match self {
            ReadTwoState::Idle => "Idle",
            ReadTwoState::Call0 { .. } => "Call0",
            ReadTwoState::Wait0 { .. } => "Wait0",
            ReadTwoState::Call1 { .. } => "Call1",
            ReadTwoState::__Poisoned => "Poisoned",
        }
    }
    /// Whether no run is in progress.
    pub fn is_idle(&self) -> bool {
        ::core::matches!(self, ReadTwoState::Idle)
    }
    /// Abandons the current run: aborts the completion the state
    /// waits for, if any, drops the stored locals (in reverse order
    /// of declaration) and returns to idle.
    pub fn cancel(&mut self) {
        #[allow(unreachable_patterns)]
        match self {
            ReadTwoState::Wait0 { __io_c, .. } => ::io_model::Completion::abort(__io_c),
            _ => {}
        }
        *self = ReadTwoState::Idle;
    }
}
