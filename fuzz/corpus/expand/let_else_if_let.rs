#[io_model::resumable(state = st)]
fn lookup(st: &mut LookupState, t: &mut Tree, key: u64) -> Result<IOResult<Option<u64>>> {
    let Some(root) = call!(t.root()) else {
        return Ok(IOResult::Done(None));
    };
    let mut page: u64 = root;
    let value: u64 = loop {
        if let Some(next) = call!(t.child(page, key)) {
            page = next;
            continue;
        }
        let v: u64 = {
            yield_now!();
            page * 2
        };
        break v;
    };
    unsafe { wait!(t.flush()) }
    Ok(IOResult::Done(Some(value)))
}
