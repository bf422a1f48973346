#[io_model::resumable(state = st)]
fn labels(st: &mut LabelsState, c: Completion, d: Completion) -> Result<IOResult<()>> {
    wait!(Same => c);
    wait!(Same => d);
    yield_now!(lower);
    yield_now!(Idle);
    call!(Wait0 => op());
    wait!();
    yield_now!(x y);
    call!(call!(op()));
    Ok(IOResult::Done(()))
}
