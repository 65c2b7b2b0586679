"""Build step: compile the Rust crate with cargo and ship the fresh libgrazr_proc.so in the package.

`pip install ./bindings/python` runs this. The crate is found through GRAZR_PROC_SRC, else by
walking up from this file to the Cargo.toml of the grazr_proc crate. Set GRAZR_PROC_PREBUILT to the
path of a library built elsewhere to ship it instead of running cargo.
"""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

LIBRARY = "libgrazr_proc.so"


def crate_root() -> Path:
    explicit = os.environ.get("GRAZR_PROC_SRC")
    if explicit:
        return Path(explicit).resolve()
    for parent in Path(__file__).resolve().parents:
        manifest = parent / "Cargo.toml"
        if manifest.is_file() and 'name = "grazr_proc"' in manifest.read_text():
            return parent
    raise SystemExit(
        "grazr_proc: cannot find the grazr_proc crate above "
        f"{Path(__file__).resolve().parent}; set GRAZR_PROC_SRC to the repository root"
    )


def built_library() -> Path:
    # Deliberately not GRAZR_PROC_LIB: a variable left set for running tests must not turn a
    # fresh install into a copy of some older build.
    prebuilt = os.environ.get("GRAZR_PROC_PREBUILT")
    if prebuilt:
        return Path(prebuilt)
    root = crate_root()
    cargo = os.environ.get("CARGO", "cargo")
    try:
        subprocess.run([cargo, "build", "--release"], cwd=root, check=True)
    except FileNotFoundError:
        raise SystemExit(
            f"grazr_proc: {cargo!r} not found; install a Rust toolchain, or set GRAZR_PROC_PREBUILT "
            "to a libgrazr_proc.so built elsewhere"
        ) from None
    except subprocess.CalledProcessError as err:
        raise SystemExit(f"grazr_proc: `cargo build --release` failed in {root} ({err.returncode})") from None
    target = Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
    if not target.is_absolute():
        target = root / target
    return target / "release" / LIBRARY


class BuildWithCargo(build_py):
    def run(self) -> None:
        super().run()
        library = built_library()
        if not library.is_file():
            raise SystemExit(f"grazr_proc: cargo did not produce {library}")
        destination = Path(self.build_lib) / "grazr_proc" / LIBRARY
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library, destination)


class BinaryDistribution(Distribution):
    """The wheel holds a native library, so it is tagged for this platform."""

    def has_ext_modules(self) -> bool:
        return True


setup(cmdclass={"build_py": BuildWithCargo}, distclass=BinaryDistribution)
