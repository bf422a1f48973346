#[io_model::resumable(state = st)]
fn count_down(st: &mut CountDownState, s: &Sched, from: u32) -> Result<IOResult<u32>> {
    let mut n: u32 = from;
    let mut sum: u32 = 0;
    while n > 0 {
        let c = s.io(n);
        wait!(c);
        sum += n;
        n -= 1;
    }
    yield_now!();
    Ok(IOResult::Done(sum))
}
