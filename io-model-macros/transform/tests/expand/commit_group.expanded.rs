pub fn commit(st: &mut CommitState, pager: &mut Pager) -> Result<IOResult<usize>> {
    #[allow(unused_imports)]
    use ::io_model::__private as __io_rt;
    let __io_s: &mut CommitState = {
        let __io_p: &mut CommitState = &mut *st;
        #[allow(unreachable_patterns)]
        match &*__io_p {
            CommitState::WaitAll0 { __io_c, .. } | CommitState::Fsync { __io_c, .. } => {
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
    let __io_ret: Result<IOResult<usize>> = (|| -> Result<IOResult<usize>> {
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
                CommitState::Idle => {
                    (*__io_s) = CommitState::__Poisoned;
                    {
                        let writes: Vec<Completion> = pager
                            .dirty
                            .iter()
                            .map(|p| pager.write(*p))
                            .collect();
                        {
                            __io_rt::trace_to!(__io_at, "commit", "WaitAll0", 4usize);
                            {
                                let __io_c = ::io_model::__private::group_all(writes);
                                let __io_y = __io_rt::pending(&__io_c);
                                (*__io_s) = CommitState::WaitAll0 {
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
                CommitState::WaitAll0 { .. } => {
                    let CommitState::WaitAll0 { __io_c: __io_c } = __io_rt::replace(
                        &mut (*__io_s),
                        CommitState::__Poisoned,
                    ) else { __io_rt::unreachable!() };
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
                        let sync = pager.fsync();
                        {
                            __io_rt::trace_to!(__io_at, "commit", "Fsync", 6usize);
                            {
                                let __io_c = ::io_model::__private::waitable(sync);
                                let __io_y = __io_rt::pending(&__io_c);
                                (*__io_s) = CommitState::Fsync {
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
                CommitState::Fsync { .. } => {
                    let CommitState::Fsync { __io_c: __io_c } = __io_rt::replace(
                        &mut (*__io_s),
                        CommitState::__Poisoned,
                    ) else { __io_rt::unreachable!() };
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
                        let n: usize = pager.dirty.len();
                        pager.dirty.clear();
                        return Ok(IOResult::Done(n));
                    }
                }
                CommitState::__Poisoned => {
                    ::core::panic!(
                        "`commit` was called again after a panic interrupted an earlier call (or while another call on the same state is running), so its state `CommitState` is poisoned; call `.cancel()` on the state (or reset it to `CommitState::default()`) to start a new run"
                    )
                }
            }
        }
    })();
    __io_rt::trace_end!(__io_at, "commit", & __io_ret);
    if let CommitState::__Poisoned = *__io_s {
        *__io_s = CommitState::Idle;
    }
    __io_ret
}
/// The state of `commit` between calls: idle, or the suspension point it waits at with the locals it holds there. Generated by `#[io_model::resumable]`.
#[allow(
    private_interfaces,
    missing_docs,
    clippy::large_enum_variant,
    non_camel_case_types
)]
pub enum CommitState {
    /// Not running: the next call starts a new run.
    Idle,
    /// Suspended at the `wait_all!` on line 4; holds no locals.
    WaitAll0 {
        /// The completion waited for.
        __io_c: ::io_model::Completion,
    },
    /// Suspended at the `wait!` on line 6; holds no locals.
    Fsync {
        /// The completion waited for.
        __io_c: ::io_model::Completion,
    },
    #[doc(hidden)]
    __Poisoned,
}
#[automatically_derived]
impl ::core::default::Default for CommitState {
    fn default() -> Self {
        CommitState::Idle
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for CommitState {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.write_str(self.name())
    }
}
#[allow(dead_code)]
impl CommitState {
    /// The state graph of `commit` in Graphviz DOT: one node per state a run can rest in (`Idle` and each suspension point, with its marker and line), the exits `Done` and `Err`, and an edge wherever a run can go from one to the other. Render it with `dot -Tsvg`.
    pub const GRAPH: &'static str = "digraph CommitState {\n  label=\"commit\";\n  Idle [shape=circle];\n  WaitAll0 [shape=box, label=\"WaitAll0\\nwait_all! line 4\"];\n  Fsync [shape=box, label=\"Fsync\\nwait! line 6\"];\n  Done [shape=doublecircle];\n  Err [shape=doublecircle];\n  Idle -> WaitAll0;\n  WaitAll0 -> Fsync;\n  WaitAll0 -> Err;\n  Fsync -> Done;\n  Fsync -> Err;\n}\n";
    /// The name of the current state: `"Idle"`, a suspension point's
    /// variant, or `"Poisoned"` after a panic (or while a call runs).
    pub fn name(&self) -> &'static str {
        match self {
            CommitState::Idle => "Idle",
            CommitState::WaitAll0 { .. } => "WaitAll0",
            CommitState::Fsync { .. } => "Fsync",
            CommitState::__Poisoned => "Poisoned",
        }
    }
    /// Whether no run is in progress.
    pub fn is_idle(&self) -> bool {
        ::core::matches!(self, CommitState::Idle)
    }
    /// Abandons the current run: aborts the completion the state
    /// waits for, if any, drops the stored locals (in reverse order
    /// of declaration) and returns to idle.
    pub fn cancel(&mut self) {
        #[allow(unreachable_patterns)]
        match self {
            CommitState::WaitAll0 { __io_c, .. } => ::io_model::Completion::abort(__io_c),
            CommitState::Fsync { __io_c, .. } => ::io_model::Completion::abort(__io_c),
            _ => {}
        }
        *self = CommitState::Idle;
    }
}
