use io_model::wait_all;

fn main() {
    wait_all!(v);
}
