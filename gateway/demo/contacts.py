"""Contact endpoints of the demo API, shaped like Chatwoot's application API.

# PII: these bodies are the point of the demo: names, E.164 phones, emails and free-text notes.
"""

from __future__ import annotations

import csv
import io
import re
import time

from aiohttp import web

from gateway.demo.conventions import (
    STORE,
    error_response,
    int_param,
    json_object,
    json_response,
    not_found,
    require_account,
)
from gateway.demo.store import CONTACTS_PER_PAGE, Json

TEXT_FIELDS = ("name", "email", "phone_number", "identifier", "thumbnail", "availability_status")
OBJECT_FIELDS = ("additional_attributes", "custom_attributes")
E164 = re.compile(r"\+[1-9]\d{1,14}")
CSV_COLUMNS = (
    "id",
    "name",
    "email",
    "phone_number",
    "identifier",
    "city",
    "country",
    "company_name",
    "created_at",
)


class InvalidContact(ValueError):
    """A field the demo cannot store; the message names the field, never its value."""


def changes_from(body: Json) -> Json:
    """The contact fields a request body sets; unknown keys are ignored, as Rails does."""
    changes: Json = {}
    for key in TEXT_FIELDS:
        if key in body:
            if body[key] is not None and not isinstance(body[key], str):
                raise InvalidContact(f"{key} must be a string")
            changes[key] = body[key]
    for key in OBJECT_FIELDS:
        if key in body:
            if not isinstance(body[key], dict):
                raise InvalidContact(f"{key} must be an object")
            changes[key] = body[key]
    phone = changes.get("phone_number")
    if phone and not E164.fullmatch(phone):
        raise InvalidContact("phone_number should be in e164 format")
    return changes


def _contact_id(request: web.Request) -> int:
    require_account(request)
    contact_id = int(request.match_info["id"])
    if contact_id not in request.app[STORE].contacts:
        raise not_found()
    return contact_id


async def list_contacts(request: web.Request) -> web.Response:
    require_account(request)
    store = request.app[STORE]
    page = int_param(request, "page", 1)
    return json_response(
        {
            "meta": {"count": len(store.contacts), "current_page": page},
            "payload": store.contact_page(page),
        }
    )


async def search_contacts(request: web.Request) -> web.Response:
    require_account(request)
    found = request.app[STORE].search_contacts(request.query.get("q", ""))
    page = int_param(request, "page", 1)
    start = (page - 1) * CONTACTS_PER_PAGE
    return json_response(
        {
            "meta": {"count": len(found), "current_page": page},
            "payload": found[start : start + CONTACTS_PER_PAGE],
        }
    )


async def show_contact(request: web.Request) -> web.Response:
    return json_response({"payload": request.app[STORE].contacts[_contact_id(request)]})


async def update_contact(request: web.Request) -> web.Response:
    contact_id = _contact_id(request)
    try:
        changes = changes_from(await json_object(request))
    except InvalidContact as exc:
        return error_response(str(exc), 422)
    return json_response({"payload": request.app[STORE].update_contact(contact_id, changes)})


async def create_contact(request: web.Request) -> web.Response:
    require_account(request)
    try:
        fields = changes_from(await json_object(request))
    except InvalidContact as exc:
        return error_response(str(exc), 422)
    contact = request.app[STORE].create_contact(fields, int(time.time()))
    return json_response({"payload": {"contact": contact}})


async def export_contacts(request: web.Request) -> web.Response:
    """CSV, not JSON: for a masked role the gateway cannot mask it and answers 502 (fail closed)."""
    require_account(request)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for contact in sorted(request.app[STORE].contacts.values(), key=lambda c: c["id"]):
        extra = contact.get("additional_attributes") or {}
        writer.writerow([contact.get(c, extra.get(c)) or "" for c in CSV_COLUMNS])
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'},
    )
