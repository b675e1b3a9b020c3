"""Writes behind the token: load a plan file (replacing a plan of the same id), delete a plan."""

from __future__ import annotations

from pathlib import Path, PurePath

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message

from seed.loader import parse_plan_text
from service.deps import HeaderedErrorRoute, SettingsDep, StoreDep, TokenDep
from service.errors import InvalidPlan, NotFound, PlanProblem, PokinError
from service.loading import check_cross_plan, detached_references, write_documents
from service.store import GraphStore

router = APIRouter(prefix="/api/plans", tags=["admin"], route_class=HeaderedErrorRoute, dependencies=[TokenDep])

YAML_TYPES = ("application/yaml", "text/yaml", "application/x-yaml", "text/plain")
MULTIPART = "multipart/form-data"
DEFAULT_FILENAME = "upload.yaml"
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": "no token sent (`Authorization: Bearer <token>` or `X-Pokin-Token`)"},
    403: {"description": "wrong token, or writes disabled because POKIN_TOKEN is not set"},
}


class TooLarge(PokinError):
    status_code = 413
    code = "too_large"


class UnsupportedMediaType(PokinError):
    status_code = 415
    code = "unsupported_media_type"


class BadUpload(PokinError):
    """A multipart request without a usable `file` field."""

    status_code = 422
    code = "bad_request"


class LoadResult(BaseModel):
    id: str
    elements: int
    replaced: bool
    # elements of other plans whose parent in this plan is gone with this version ({plan, element, parent});
    # the link comes back when an element of that id is loaded again
    detached: list[dict[str, str]] = []


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it is known to exceed `limit` bytes.

    Content-Length is checked first; the stream is counted too, since a client may send none (chunked).
    """
    too_large = TooLarge(f"the request body exceeds the limit of {limit} bytes (POKIN_UPLOAD_LIMIT)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _form_file(request: Request, body: bytes) -> tuple[str, bytes]:
    """The `file` field of a multipart body already read (and bounded) into memory: (filename, content)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        async with Request(request.scope, replay).form(max_files=4, max_fields=16, max_part_size=len(body) + 1) as form:
            if len(form.getlist("file")) > 1:  # one plan per request: the others would be dropped unseen
                raise BadUpload("send one plan file per request (the body has several fields 'file')")
            part = form.get("file")
            if isinstance(part, UploadFile):
                return PurePath(part.filename or DEFAULT_FILENAME).name or DEFAULT_FILENAME, await part.read()
            if isinstance(part, str):
                return DEFAULT_FILENAME, part.encode()
    except StarletteHTTPException as e:  # malformed multipart: keep the one error shape
        raise BadUpload(f"cannot read the multipart body: {e.detail}") from e
    raise BadUpload("the multipart body has no field 'file'")


def _decode(content: bytes, filename: str) -> str:
    """Raises: InvalidPlan naming the file and the line of the first byte that is not UTF-8."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as e:
        line = content[: e.start].count(b"\n") + 1
        raise InvalidPlan([PlanProblem(filename, line, "", f"not UTF-8 text: byte 0x{content[e.start]:02x} at offset {e.start}")]) from e


def _load(store: GraphStore, filename: str, text: str) -> LoadResult:
    """Validate one plan file whole (its own rules and its cross-plan parents), then write it atomically.

    Raises:
        InvalidPlan: every problem, each naming file, line and field; nothing is written.
    """
    doc = parse_plan_text(text, filename)
    docs = [(Path(filename), doc)]
    check_cross_plan(store, docs)
    replaced = bool(store.read("get_plan", plan_id=doc.plan.id))
    written = write_documents(store, docs, compact=False)
    store.compact_after_write()
    return LoadResult(id=doc.plan.id, elements=written[0]["elements"], replaced=replaced,
                      detached=detached_references(store, [doc.plan.id]) if replaced else [])


@router.post("", status_code=201, responses={
    **ERROR_RESPONSES,
    413: {"description": "the body exceeds POKIN_UPLOAD_LIMIT"},
    415: {"description": "neither YAML/plain text nor multipart/form-data"},
    422: {"description": "the plan is invalid (each problem with file, line, field); nothing was written"},
}, openapi_extra={"requestBody": {"required": True, "content": {
    **{t: {"schema": {"type": "string"}} for t in YAML_TYPES},
    MULTIPART: {"schema": {"type": "object", "required": ["file"],
                           "properties": {"file": {"type": "string", "format": "binary"}}}},
}}})
async def load_plan(request: Request, response: Response, store: StoreDep, settings: SettingsDep) -> LoadResult:
    """Load one plan file, sent as the raw body (YAML) or as the multipart field `file`.

    A plan with the same id is replaced whole. The file is checked like `pokin load` does, and refused
    whole, with every problem named by file, line and field, when anything is wrong.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in (*YAML_TYPES, MULTIPART):
        raise UnsupportedMediaType(f"send the plan as {', '.join(YAML_TYPES)} or as {MULTIPART} field 'file'"
                                   f" (got {media_type or 'no Content-Type'})")
    body = await _read_body(request, settings.pokin_upload_limit)
    filename, content = (await _form_file(request, body)) if media_type == MULTIPART else (DEFAULT_FILENAME, body)
    result = await run_in_threadpool(_load, store, filename, _decode(content, filename))
    response.headers["Location"] = f"/api/plans/{result.id}"
    return result


@router.delete("/{plan_id}", status_code=204, response_class=Response,
               responses={**ERROR_RESPONSES, 404: {"description": "no such plan is loaded"}})
def delete_plan(plan_id: str, store: StoreDep) -> Response:
    """Remove a plan whole; edges from other plans into it come back when it is loaded again."""
    rows = store.write("delete_plan", plan_id=plan_id)
    if not (rows and rows[0]["existed"]):
        raise NotFound(f"no plan {plan_id!r} is loaded")
    store.compact_after_write()
    return Response(status_code=204)
