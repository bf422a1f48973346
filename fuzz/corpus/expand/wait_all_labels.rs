#[io_model::resumable(state = st, name = Commit)]
pub fn commit(st: &mut Commit, pager: &mut Pager) -> Result<IOResult<usize>> {
    let writes: Vec<Completion> = pager.dirty.iter().map(|p| pager.write(*p)).collect();
    wait_all!(Writes => writes);
    let sync = pager.fsync();
    wait!(Fsync => sync);
    let n: usize = pager.dirty.len();
    pager.dirty.clear();
    Ok(IOResult::Done(n))
}
