#[io_model::resumable(state = st)]
fn balance(st: &mut BalanceState, p: &mut Pager, children: &[u32]) -> Result<IOResult<u32>> {
    let mut sum: u32 = 0;
    let mut sub: LoadChild = LoadChild::Start;
    'outer: for idx in 0..children.len() {
        match call!(load_child(&mut sub, p, children[idx])) {
            0 => continue,
            v if v > 100 => break 'outer,
            v => sum += v,
        }
    }
    Ok(IOResult::Done(sum))
}
