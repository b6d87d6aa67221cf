"""Build hook of the Oxim wheel: the generated module (oxim.py, with oxim_extras.py appended by
scripts/bindings.sh) becomes the package `oxim`, with the native library beside it, where the
module loads it from. The library makes the wheel platform-specific, not Python-specific: it is
loaded with ctypes, so the tag is py3-none-<platform>.

OXIM_PYTHON_BINDINGS: the directory with oxim.py and the library (default:
../../target/bindings/python). OXIM_WHEEL_PLATFORM: the platform tag (default: this machine's,
e.g. linux_x86_64; a release names the manylinux or macosx tag it was built for).
"""

import os
import sysconfig

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LIBRARIES = ("liboxim_ffi.so", "liboxim_ffi.dylib", "oxim_ffi.dll")


class OximWheelHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            raise RuntimeError("only wheels are built: the module is generated from the Rust library")
        src = os.environ.get("OXIM_PYTHON_BINDINGS") or os.path.join(self.root, "..", "..", "target", "bindings", "python")
        module = os.path.join(src, "oxim.py")
        libraries = [name for name in LIBRARIES if os.path.exists(os.path.join(src, name))]
        if not os.path.exists(module) or not libraries:
            raise RuntimeError(f"no generated bindings in {src}: run scripts/bindings.sh first")
        build_data["force_include"][module] = "oxim/__init__.py"
        for name in libraries:
            build_data["force_include"][os.path.join(src, name)] = f"oxim/{name}"
        platform = os.environ.get("OXIM_WHEEL_PLATFORM") or sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{platform}"
