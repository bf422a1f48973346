//! The names the lint recognizes: yield macros, mutating methods, I/O
//! submissions, cursor moves, reset variants. Matching is by name, because
//! the lint reads syntax without type information; the lists favour names
//! whose meaning is unambiguous (precision over recall).

/// Macros that evaluate an operation and return `IO` from the enclosing
/// function when it is not done (`return_if_io!(op)`); the last argument is
/// the operation.
pub const CALL_YIELD_MACROS: &[&str] = &["return_if_io", "return_step_if_io"];

/// Like [`CALL_YIELD_MACROS`], but the first two arguments are a place and
/// the value written back to it before returning.
pub const RESTORE_YIELD_MACROS: &[&str] = &["return_and_restore_if_io"];

/// Macros that always return `IO` from the enclosing function.
pub const EXPLICIT_YIELD_MACROS: &[&str] = &["io_yield_one", "io_yield_many"];

/// Macros that return `IO` when a page is not ready, and fall through
/// otherwise (Turso's older b-tree code).
pub const CONDITIONAL_YIELD_MACROS: &[&str] = &["return_if_locked", "return_if_locked_maybe_load"];

/// Types that are an `IOResult` by name. Enums declared in the linted
/// sources with a variant named `IO` or `Io` are added to these.
pub const IO_TYPES: &[&str] = &["IOResult", "CursorResult"];

/// Methods that change their receiver in a way that is not idempotent:
/// running them twice leaves a different result than running them once.
pub const MUTATING_METHODS: &[&str] = &[
    "push",
    "push_back",
    "push_front",
    "push_str",
    "insert",
    "extend",
    "extend_from_slice",
    "append",
    "remove",
    "swap_remove",
    "pop",
    "pop_back",
    "pop_front",
    "pop_first",
    "pop_last",
    "clear",
    "take",
    "drain",
    "advance",
    "swap",
    "truncate",
    "retain",
    "retain_mut",
    "dedup",
    "split_off",
    "resize",
    "replace",
    "rotate_left",
    "rotate_right",
    "fetch_add",
    "fetch_sub",
    "fetch_and",
    "fetch_or",
    "fetch_xor",
    "fetch_max",
    "fetch_min",
    "fetch_update",
    "increment",
    "decrement",
];

/// How many arguments the std version of a mutating method takes, where
/// another common method of the same name does something else
/// (`str::replace(a, b)` returns a new string, `Iterator::take(n)` does not
/// mutate, Turso's `active_op_state.insert()` is an accessor).
pub fn mutating_arity_ok(name: &str, nargs: usize) -> bool {
    match name {
        "take" | "pop" | "pop_back" | "pop_front" | "pop_first" | "pop_last" | "clear"
        | "dedup" => nargs == 0,
        "replace" | "remove" | "push" | "push_back" | "push_front" | "push_str" | "extend"
        | "extend_from_slice" | "append" | "drain" | "truncate" | "split_off" | "retain"
        | "retain_mut" | "swap_remove" => nargs == 1,
        "insert" | "swap" => nargs == 1 || nargs == 2,
        "resize" => nargs == 2,
        _ => true,
    }
}

/// Mutations that leave the same result when they run twice in a row
/// (`v.clear()`, `v.resize(n, 0)`, `v.truncate(n)`): reported only when the
/// call that yields reads the same place (its progress is reset under it).
pub const IDEMPOTENT_MUTATIONS: &[&str] = &["clear", "resize", "truncate", "fill"];

/// Methods that read where a stack-like place stands (`self.stack.top()`,
/// `state.page_stack.last()`): a function that reads a place this way
/// finds its way from it on the next call, so changing that place is a
/// state transition (Turso's b-tree cursor stack).
pub fn is_position_reader(name: &str) -> bool {
    matches!(
        name,
        "top" | "top_ref" | "peek" | "last" | "last_mut" | "current" | "has_parent"
    ) || name.starts_with("current_")
        || name.starts_with("top_")
        || name.starts_with("peek_")
}

/// Methods that write a value the way an assignment does (`cell.set(v)`,
/// `atomic.store(v, ..)`).
pub const ASSIGNING_METHODS: &[&str] = &["set", "store"];

/// Methods that write the place they are called on so that a guard testing
/// it turns false (`if x.is_none() { x.replace(..) }`).
pub const GUARD_FLIPPING_METHODS: &[&str] = &[
    "replace",
    "insert",
    "set",
    "store",
    "take",
    "get_or_insert",
    "get_or_insert_with",
];

/// I/O submissions: each call issues an operation to a file or device.
pub const IO_METHODS: &[&str] = &[
    "pread", "pwrite", "pwritev", "preadv", "sync", "fsync", "datasync", "truncate",
];

/// Free functions that submit I/O (Turso's page and WAL writers).
pub const IO_FUNCTIONS: &[&str] = &[
    "begin_read_page",
    "begin_write_btree_page",
    "begin_sync",
    "begin_read_wal_frame",
    "begin_write_wal_frame",
];

/// Methods (and functions) that see through to the same place: a write
/// through `self.v.borrow_mut().push(..)` is a write to `self.v`.
pub const PROJECTIONS: &[&str] = &[
    "as_mut",
    "as_ref",
    "borrow_mut",
    "borrow",
    "try_borrow_mut",
    "lock",
    "write",
    "read",
    "unwrap",
    "expect",
    "unwrap_unchecked",
    "get_mut",
    "get",
    "get_unchecked_mut",
    "deref",
    "deref_mut",
    "last_mut",
    "first_mut",
    "last",
    "first",
    "iter_mut",
    "values_mut",
    "as_deref_mut",
    "as_deref",
    "as_mut_slice",
    "entry",
];

/// Projections that produce a reference a local can hold: `let v =
/// self.v.borrow_mut();` makes `v` stand for `self.v`.
pub const REFERENCE_PROJECTIONS: &[&str] = &[
    "as_mut",
    "borrow_mut",
    "try_borrow_mut",
    "lock",
    "write",
    "get_mut",
    "get_unchecked_mut",
    "deref_mut",
    "last_mut",
    "first_mut",
    "iter_mut",
    "values_mut",
    "as_deref_mut",
    "as_mut_slice",
];

/// Iterator adapters and collection methods whose closure argument runs
/// during the call.
pub const EAGER_CLOSURE_METHODS: &[&str] = &[
    "for_each",
    "try_for_each",
    "map",
    "filter_map",
    "flat_map",
    "filter",
    "inspect",
    "fold",
    "try_fold",
    "any",
    "all",
    "find",
    "position",
    "retain",
    "retain_mut",
    "sort_by",
    "sort_by_key",
    "map_or",
    "map_or_else",
    "and_then",
    "unwrap_or_else",
    "get_or_insert_with",
    "or_insert_with",
];

/// What a completed call does, for the rule "two calls that can yield in
/// one state".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallClass {
    /// Moves a cursor relative to where it is (`next`, `prev`): running it
    /// twice moves twice.
    RelativeMove,
    /// Moves a cursor to an absolute position (`seek`, `rewind`): running
    /// it twice lands on the same row, but repositions the cursor under a
    /// mutation in flight on it.
    AbsoluteMove,
    /// Inserts, deletes, allocates or frees: not idempotent.
    Mutation,
    /// Anything else (loads, reads): assumed idempotent.
    Other,
}

/// Classifies a call that can yield by its method or function name.
pub fn call_class(name: &str) -> CallClass {
    const RELATIVE: &[&str] = &[
        "next",
        "prev",
        "previous",
        "advance",
        "get_next_record",
        "get_prev_record",
    ];
    const ABSOLUTE: &[&str] = &[
        "seek",
        "seek_to_last",
        "move_to",
        "move_to_root",
        "move_to_rightmost",
        "rewind",
        "last",
        "first",
    ];
    const MUTATION_WORDS: &[&str] = &[
        "insert",
        "delete",
        "remove",
        "append",
        "push",
        "overwrite",
        "allocate",
        "alloc",
        "free",
        "destroy",
        "drop",
        "clear",
        "truncate",
    ];
    const MUTATION_NAMES: &[&str] = &["new_rowid", "btree_create", "btree_destroy"];
    if RELATIVE.contains(&name) {
        return CallClass::RelativeMove;
    }
    // An existence check on a cursor (`key_exists_in_index`) seeks it.
    if ABSOLUTE.contains(&name)
        || name.starts_with("seek_")
        || name.starts_with("move_to_")
        || name.contains("exists")
    {
        return CallClass::AbsoluteMove;
    }
    let first = name.split('_').next().unwrap_or(name);
    if MUTATION_NAMES.contains(&name) || MUTATION_WORDS.contains(&first) {
        return CallClass::Mutation;
    }
    CallClass::Other
}

/// Variant names that mean "not running" or "finished": writing one of
/// these before a call that can still yield ends or restarts the
/// operation on re-entry instead of resuming it.
pub const RESET_VARIANTS: &[&str] = &[
    "Start",
    "Started",
    "Init",
    "Initial",
    "Idle",
    "Begin",
    "Done",
    "Finished",
    "Finish",
    "Complete",
    "Completed",
    "End",
    "Ended",
    "Default",
];

/// Methods whose names std collections and iterators also use; the rule
/// for dropped `IOResult`s only trusts them when the call is followed by
/// `?` (the std ones are not fallible).
pub const COMMON_STD_NAMES: &[&str] = &[
    "next",
    "insert",
    "remove",
    "get",
    "push",
    "pop",
    "clear",
    "write",
    "read",
    "flush",
    "sync",
    "close",
    "open",
    "seek",
    "step",
    "run",
    "take",
    "drain",
    "append",
    "extend",
    "len",
    "last",
    "first",
    "delete",
    "update",
    "commit",
    "finish",
    "begin",
    "sort",
    "sort_by",
    "sort_unstable",
    "reverse",
    "dedup",
    "retain",
    "truncate",
    "resize",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(call_class("next"), CallClass::RelativeMove);
        assert_eq!(call_class("seek"), CallClass::AbsoluteMove);
        assert_eq!(call_class("seek_end"), CallClass::AbsoluteMove);
        assert_eq!(call_class("insert"), CallClass::Mutation);
        assert_eq!(call_class("insert_into_page"), CallClass::Mutation);
        assert_eq!(call_class("delete"), CallClass::Mutation);
        assert_eq!(call_class("read_page"), CallClass::Other);
        assert_eq!(call_class("record"), CallClass::Other);
    }
}
