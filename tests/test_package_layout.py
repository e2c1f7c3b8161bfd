"""The package's modules import each other without a circle (imports inside functions
included): each module can be read knowing only the ones below it."""
from __future__ import annotations

import ast
import os

from trainer_testing import REPO

PACKAGE = os.path.join(REPO, "python", "w2v_ext")


def module_imports() -> dict:
    """module name -> the package's modules it imports."""
    modules = {}
    for directory, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                dotted = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3].replace(os.sep, ".")
                modules[dotted[:-len(".__init__")] if dotted.endswith(".__init__") else dotted] = path
    imports = {}
    for module, path in modules.items():
        package = module if path.endswith("__init__.py") else module.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                submodules = {f"{base}.{a.name}" for a in node.names} & set(modules)
                found |= submodules | ({base} if len(submodules) < len(node.names) else set())
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        # a module's own packages are loaded before it anyway
        imports[module] = {m for m in found & set(modules) if m != module and not module.startswith(m + ".")}
    return imports


def test_no_import_circle():
    imports = module_imports()
    assert "w2v_ext.trainer" in imports and "w2v_ext.epochs" in imports["w2v_ext.trainer"]
    done, path = set(), []

    def visit(module):
        if module in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        path.append(module)
        for other in sorted(imports[module]):
            visit(other)
        path.pop()
        done.add(module)

    for module in sorted(imports):
        visit(module)
