#[io_model::resumable(state = st)]
struct NotAFunction {
    st: u32,
}
