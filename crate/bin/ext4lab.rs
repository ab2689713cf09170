//! The native command-line tool.
#[cfg(not(target_arch = "wasm32"))]
mod cmd_explore;

#[cfg(not(target_arch = "wasm32"))]
#[derive(clap::Parser)]
#[command(name = "ext4lab", version = ext4lab::VERSION, about = "ext4 races on a real engine in a deterministic simulation")]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[cfg(not(target_arch = "wasm32"))]
#[derive(clap::Subcommand)]
enum Cmd {
    /// List the built-in race scenarios and their variants.
    Scenarios {
        #[arg(long)]
        json: bool,
    },
    /// Explore a scenario's interleavings (built-in name or file path).
    Explore {
        scenario: String,
        #[arg(long)]
        variant: Option<String>,
        /// dfs | pct | random
        #[arg(long)]
        strategy: Option<String>,
        /// Preemption bound (dfs).
        #[arg(long)]
        bound: Option<u32>,
        /// Most executions.
        #[arg(long)]
        budget: Option<u64>,
        #[arg(long)]
        seed: Option<u64>,
        /// I/N
        #[arg(long)]
        shard: Option<String>,
        /// NAME=VALUE (repeatable)
        #[arg(long = "option")]
        options: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Replay a share link (or its fragment).
    Replay {
        link: String,
        #[arg(long)]
        json: bool,
        /// Write the trace as Chrome trace-event JSON (opens in Perfetto).
        #[arg(long)]
        perfetto: Option<String>,
        /// Print the kernel-named timeline (locks, bios, warnings).
        #[arg(long)]
        timeline: bool,
    },
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use clap::Parser;
    let cli = Cli::parse();
    let code = match cli.cmd {
        None => {
            println!("ext4lab {}", ext4lab::VERSION);
            0
        }
        Some(Cmd::Scenarios { json }) => cmd_explore::cmd_scenarios(json),
        Some(Cmd::Explore {
            scenario,
            variant,
            strategy,
            bound,
            budget,
            seed,
            shard,
            options,
            json,
        }) => cmd_explore::cmd_explore(cmd_explore::ExploreArgs {
            scenario,
            variant,
            strategy,
            bound,
            budget,
            seed,
            shard,
            options,
            json,
        }),
        Some(Cmd::Replay {
            link,
            json,
            perfetto,
            timeline,
        }) => cmd_explore::cmd_replay(&link, json, perfetto, timeline),
    };
    std::process::exit(code);
}

#[cfg(target_arch = "wasm32")]
fn main() {}
