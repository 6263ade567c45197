"""The one compiled part: reelrights.core._native (the byte work of verifying proof files).

Everything else is in pyproject.toml. The extension is optional: where it does not build (no C
compiler, no OpenSSL headers), reelrights works the same on its pure-Python paths, only slower
(`reelrights.core._accel.native_enabled()` says which is in use).
"""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("reelrights.core._native", ["src/reelrights/core/_native.c"],
              libraries=["crypto"], optional=True,
              extra_compile_args=["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"]),
])
