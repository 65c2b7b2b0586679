#![forbid(unsafe_code)]
//! The public API.
use std::path::Path;
use once_cell::sync::Lazy;
use crate::{ProcessInfo, Result, ServiceSpec, StartSpec, Status, StopOptions};

/// A process manager: its own registry of tracked ids and registered services.
pub struct Manager {}

static GLOBAL: Lazy<Manager> = Lazy::new(Manager::new);

impl Default for Manager { fn default() -> Self { Self::new() } }

impl Manager {
    /// A manager with nothing tracked or registered.
    pub fn new() -> Self { Manager {} }
    /// The instance behind the C ABI.
    pub fn global() -> &'static Manager { &GLOBAL }
    /// Starts.
    pub fn start(&self, _id: &str, _spec: &StartSpec) -> Result<()> { todo!() }
    /// Stops.
    pub fn stop(&self, _id: &str, _opts: &StopOptions) -> Result<()> { todo!() }
    /// Status.
    pub fn status(&self, _id: &str) -> Result<Status> { todo!() }
    /// Pid.
    pub fn pid(&self, _id: &str) -> Result<Option<i32>> { todo!() }
    /// Signal.
    pub fn signal(&self, _id: &str, _sig: i32) -> Result<()> { todo!() }
    /// Info.
    pub fn info(&self, _id: &str) -> Result<ProcessInfo> { todo!() }
    /// List.
    pub fn list(&self) -> Vec<String> { todo!() }
    /// Stop all.
    pub fn stop_all(&self) -> Result<()> { todo!() }
    /// Register.
    pub fn register_service(&self, _spec: ServiceSpec) -> Result<()> { todo!() }
    /// Shutdown.
    pub fn shutdown(&self) { todo!() }
}
/// Read pid file.
pub fn read_pid_file(_path: &Path) -> Result<Option<i32>> { todo!() }
/// Pid alive.
pub fn pid_alive(_pid: i32) -> bool { todo!() }
