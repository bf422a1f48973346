#[io_model::resumable]
impl Reader {
    #[resumable(state = self.read_two)]
    fn read_two(&mut self, a: u64, b: u64) -> Result<IOResult<u64>> {
        let first: u64 = call!(self.read_one(a));
        let c = Completion::new_sync(|_| {});
        wait!(self.file.sync(c)?);
        self.total += first;
        let second: u64 = call!(self.read_one(b));
        Ok(IOResult::Done(first + second))
    }

    fn helper(&self) -> u32 {
        1
    }
}
