"""What a kustomization builds, read without kustomize (CI has no cluster and no kubectl).

Enough of kustomize for the gateway's own layout: ``resources`` (files, and folders with
a kustomization of their own), ``configMapGenerator`` with ``files``, ``patches`` whose
documents are maps only (a strategic merge of maps is a plain recursive merge; a patch
with a list is refused rather than merged wrongly), ``namespace``, and ``images`` (set on
every container whose image has that name). Generated names keep no hash suffix here;
kustomize adds one and rewrites the references.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
K8S = REPO / "deploy" / "k8s"
KUSTOMIZATION = "kustomization.yaml"
Doc = dict[str, Any]


@dataclass(frozen=True)
class Built:
    """The documents a kustomization builds, each with the file it came from."""

    docs: list[tuple[Path, Doc]]
    images: dict[str, str]  # image name -> name:tag, from the kustomizations' `images:`

    def find(self, kind: str, name: str) -> Doc:
        hits = [d for _, d in self.docs if d["kind"] == kind and d["metadata"]["name"] == name]
        assert len(hits) == 1, f"{kind}/{name}: {len(hits)} documents"
        return hits[0]

    def of_kind(self, *kinds: str) -> list[Doc]:
        return [d for _, d in self.docs if d["kind"] in kinds]


def read_docs(path: Path) -> list[Doc]:
    with path.open(encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def read_kustomization(folder: Path) -> Doc:
    doc: Doc = yaml.safe_load((folder / KUSTOMIZATION).read_text(encoding="utf-8"))
    return doc


def merge(base: Any, patch: Any) -> Any:
    """``patch`` merged into ``base``: maps key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(base[key], value) if key in base else value
        return out
    return patch


def _maps_only(doc: Any, where: str) -> None:
    assert not isinstance(doc, list), f"{where}: a patch with a list needs kustomize itself"
    if isinstance(doc, dict):
        for key, value in doc.items():
            _maps_only(value, f"{where}.{key}")


def _key(doc: Doc) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def build(folder: Path) -> Built:
    """The documents of the kustomization in ``folder``, its bases' included."""
    k = read_kustomization(folder)
    docs: list[tuple[Path, Doc]] = []
    images: dict[str, str] = {}
    for entry in k.get("resources", []):
        path = (folder / entry).resolve()
        if path.is_dir():
            sub = build(path)
            docs.extend(sub.docs)
            images.update(sub.images)
        else:
            docs.extend((path, d) for d in read_docs(path))
    for gen in k.get("configMapGenerator", []):
        data = {Path(f).name: (folder / f).read_text(encoding="utf-8") for f in gen["files"]}
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}}
        docs.append((folder / KUSTOMIZATION, {**cm, "data": data}))
    for entry in k.get("patches", []):
        assert set(entry) == {"path"}, f"{folder}: only patches by path are read here"
        for patch in read_docs(folder / entry["path"]):
            _maps_only(patch, f"{entry['path']}:{_key(patch)}")
            at = [i for i, (_, d) in enumerate(docs) if _key(d) == _key(patch)]
            assert len(at) == 1, f"{entry['path']}: {_key(patch)} patches {len(at)} documents"
            src, doc = docs[at[0]]
            docs[at[0]] = (src, merge(doc, patch))
    if "namespace" in k:
        docs = [(p, merge(d, {"metadata": {"namespace": k["namespace"]}})) for p, d in docs]
    for image in k.get("images", []):
        images[image["name"]] = f"{image.get('newName', image['name'])}:{image['newTag']}"
    return Built([(p, _set_images(d, images)) for p, d in docs], images)


def _set_images(doc: Any, images: dict[str, str]) -> Any:
    """Each container image named in ``images`` (with any tag or none) set as kustomize
    sets it."""
    if isinstance(doc, list):
        return [_set_images(d, images) for d in doc]
    if not isinstance(doc, dict):
        return doc
    out = {k: _set_images(v, images) for k, v in doc.items()}
    image = out.get("image")
    if isinstance(image, str) and image.split(":")[0] in images:
        out["image"] = images[image.split(":")[0]]
    return out


def pod_spec(doc: Doc) -> Doc:
    """The pod template's spec of a workload (Deployment, StatefulSet, CronJob)."""
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    result: Doc = spec["template"]["spec"]
    return result


def containers(doc: Doc) -> list[Doc]:
    spec = pod_spec(doc)
    return [*spec.get("initContainers", []), *spec["containers"]]
