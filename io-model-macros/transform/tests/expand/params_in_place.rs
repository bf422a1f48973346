#[io_model::resumable(state = st)]
fn sum_pages(st: &mut SumPagesState, io: &Pager, pages: Vec<u64>, label: String) -> Result<IOResult<u64>> {
    let mut sum: u64 = 0;
    for k in 0..pages.len() {
        let c = io.read(pages[k])?;
        wait!(c);
        sum += io.value(pages[k]);
    }
    io.log(&label);
    Ok(IOResult::Done(sum + pages[0]))
}
