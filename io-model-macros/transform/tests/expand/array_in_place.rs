#[io_model::resumable(state = st)]
fn fill_page(st: &mut FillPageState, d: &Disk, seed: u64) -> Result<IOResult<u64>> {
    let mut page: [u8; 4096] = [0; 4096];
    for k in 0..4usize {
        let c = d.read(k);
        wait!(c);
        let v = d.value(seed + k as u64);
        page[k * 1024..k * 1024 + 8].copy_from_slice(&v.to_le_bytes());
    }
    let w = d.write(&page);
    wait!(w);
    Ok(IOResult::Done(digest(&page)))
}
