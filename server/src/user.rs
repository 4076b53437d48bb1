//! `runboard user add|list|set-role|remove`: people, managed in the data folder's
//! store directly. SQLite's WAL lets this run while the server does; the server reads
//! roles at every request, so a change takes effect at once.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use runboard_server::config;
use runboard_server::people::{self, Role};
use runboard_server::store::Store;

/// How long a one-time login link works.
const LOGIN_LINK_SECONDS: i64 = 7 * 24 * 3600;

/// The `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person and print their one-time login link (they set a password there).
    Add {
        /// Their name: letters, digits, '.', '_' or '-'.
        name: String,
        /// viewer (reads), editor (also submits, edits, shares) or admin.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print a new one-time login link for a person (their earlier one stops working).
    Link {
        /// Their name.
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// List people and their roles.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Change a person's role.
    SetRole {
        /// Their name.
        name: String,
        /// viewer, editor or admin.
        role: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Remove a person: their sessions, API tokens and share links end with them.
    Remove {
        /// Their name.
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// The data folder of the server.
#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// The server's data folder.
    #[arg(long, default_value = "./runboard-data")]
    data_dir: PathBuf,
    /// The server's URL for the printed link (default: the one `runboard serve`
    /// noted in the data folder).
    #[arg(long)]
    url: Option<String>,
}

impl DataDir {
    async fn store(&self) -> Result<Store> {
        let db = self.data_dir.join("runboard.sqlite");
        if !db.is_file() {
            bail!(
                "no Runboard store in {}: start `runboard serve --data-dir {}` there first",
                self.data_dir.display(),
                self.data_dir.display()
            );
        }
        Store::open(&db)
            .await
            .with_context(|| format!("opening the store in {}", self.data_dir.display()))
    }

    fn url(&self) -> String {
        self.url
            .clone()
            .or_else(|| std::fs::read_to_string(config::public_url_file(&self.data_dir)).ok())
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| "http://127.0.0.1:8070".into())
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Runs one `user` subcommand.
pub async fn run(command: UserCommand) -> Result<std::process::ExitCode> {
    match command {
        UserCommand::Add { name, role, data } => {
            people::check_name(&name)?;
            let role = Role::parse(&role)?;
            let store = data.store().await?;
            if !store.add_person(&name, role, now()).await? {
                bail!(
                    "{name:?} already exists: `runboard user link {name}` prints a new login link"
                );
            }
            print_link(&store, &data, &name).await?;
        }
        UserCommand::Link { name, data } => {
            let store = data.store().await?;
            if store.credentials(&name).await?.is_none() {
                bail!("no person called {name:?} (`runboard user list` lists them)");
            }
            print_link(&store, &data, &name).await?;
        }
        UserCommand::List { data } => {
            let store = data.store().await?;
            for person in store.people().await? {
                let password = if person.has_password {
                    ""
                } else {
                    "  (no password yet)"
                };
                println!("{}\t{}{password}", person.name, person.role);
            }
        }
        UserCommand::SetRole { name, role, data } => {
            let role = Role::parse(&role)?;
            let store = data.store().await?;
            if !store.set_role(&name, role).await? {
                bail!("no person called {name:?} (`runboard user list` lists them)");
            }
            println!("{name} is now {role}");
        }
        UserCommand::Remove { name, data } => {
            let store = data.store().await?;
            if !store.remove_person(&name).await? {
                bail!("no person called {name:?} (`runboard user list` lists them)");
            }
            println!("Removed {name}: their sessions, tokens and share links have ended");
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn print_link(store: &Store, data: &DataDir, name: &str) -> Result<()> {
    let secret = people::new_secret();
    store
        .add_login_link(
            name,
            &people::hash_secret(&secret),
            now() + LOGIN_LINK_SECONDS,
        )
        .await?;
    println!("Login link for {name} (works once, for 7 days; they set a password there):");
    println!("{}/login/{secret}", data.url());
    Ok(())
}
