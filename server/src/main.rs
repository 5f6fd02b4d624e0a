use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = shipgate_server::cli::Cli::parse();
    shipgate_server::cli::run(cli).await
}
