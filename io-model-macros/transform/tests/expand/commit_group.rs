#[io_model::resumable(state = st)]
pub fn commit(st: &mut CommitState, pager: &mut Pager) -> Result<IOResult<usize>> {
    let writes: Vec<Completion> = pager.dirty.iter().map(|p| pager.write(*p)).collect();
    wait_all!(writes);
    let sync = pager.fsync();
    wait!(Fsync => sync);
    let n: usize = pager.dirty.len();
    pager.dirty.clear();
    Ok(IOResult::Done(n))
}
