"""The build step setuptools cannot declare in pyproject.toml: the translation catalogues.

The compiled catalogues (``*.mo``) are not kept in git; every build (``pip install .``,
``pip wheel .``, an editable install) compiles ``reserve/translations/*/LC_MESSAGES/*.po``
into the package, so an installed Reserve speaks Chinese like a clone after ``make install``."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

TRANSLATIONS = Path(__file__).resolve().parent / "reserve" / "translations"


def compile_catalogues(target_root: Path) -> list[Path]:
    """Compile each ``.po`` under the source tree into ``target_root`` (same relative path)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as handle:
            catalogue = read_po(handle, locale=po_path.parts[-3])
        mo_path = target_root / po_path.relative_to(TRANSLATIONS.parent.parent).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as handle:
            write_mo(handle, catalogue, use_fuzzy=False)
        written.append(mo_path)
    if not written:
        raise SystemExit(f"no translation catalogues found under {TRANSLATIONS}")
    return written


class BuildWithCatalogues(build_py):
    """build_py, then the compiled catalogues beside the copied ``.po`` files."""

    def run(self) -> None:
        super().run()
        # an editable install reads the source tree: compile there (as ``make translations``)
        compile_catalogues(
            TRANSLATIONS.parent.parent if self.editable_mode else Path(self.build_lib)
        )

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        build_lib = Path(self.build_lib)
        return outputs + [
            str(build_lib / p.relative_to(TRANSLATIONS.parent.parent).with_suffix(".mo"))
            for p in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po"))
        ]


setup(cmdclass={"build_py": BuildWithCatalogues})
