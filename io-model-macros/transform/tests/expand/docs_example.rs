#[io_model::resumable(state = st)]
fn sum_pages(st: &mut SumPagesState, s: &Store, n: u32) -> Result<IOResult<u64>> {
    let mut i: u32 = 0;
    let mut sum: u64 = 0;
    while i < n {
        let c = s.read(i);
        wait!(c);
        sum += s.value(i);
        i += 1;
    }
    let total: u64 = call!(s.flush(sum));
    Ok(IOResult::Done(total))
}
