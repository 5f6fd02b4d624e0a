use clap::Parser;

// Page rendering allocates a great deal from many threads at once; glibc's allocator spent
// a third of the release page's time in malloc/free and arena locks (perf, make bench).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = shipgate_server::cli::Cli::parse();
    shipgate_server::cli::run(cli).await
}
