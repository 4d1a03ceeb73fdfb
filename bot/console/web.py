"""The console as a Starlette application: server-rendered pages, one-time sign-in, CSRF on every form.

Every page but the sign-in page needs a session: without one it answers 401 with a page that says how to
sign in and shows no data. Every POST carries the session's CSRF secret in a hidden field. Responses are
never cached, never framed and send no Referer (a sign-in link must not leak to another site).

Each request is its own unit of work: the page (or form post) opens one ``database.transaction()`` around
the rules it calls, which commits when the block ends and rolls back on any error; the sign-in check before
it is a short read of its own. A database that cannot be reached answers 503 (see ``_server_error``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.console import auth, entries, views
from bot.console.chart import usage_svg
from bot.core.services import Services

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
COOKIE = "pb_console"
MAX_CSV_BYTES = 2_000_000
MAX_FIELD_CHARS = 20_000
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; form-action 'self'; frame-ancestors 'none'",
}
#: The pages linked from the home page, in the order of the menu.
PAGES = (("/questions", "Questions"), ("/entries", "Entries"), ("/ask", "What would the bot answer?"),
         ("/feedback", "Feedback"), ("/mentors", "Mentors"), ("/partnerships", "Partnerships"),
         ("/usage", "Usage"))

templates = Jinja2Templates(directory=str(HERE / "templates"))


def _answer_html(markdown: str) -> Markup:
    """An entry's answer as the bot shows it: the knowledge base's Markdown subset, everything else escaped."""
    from knowledge.render import to_html

    return Markup(to_html(markdown).replace("\n", "<br>\n"))


templates.env.filters["answer_html"] = _answer_html


@dataclass
class Console:
    """What the console works on: the bot's services (shared with the running bot, if any) and the
    knowledge-base folders it edits."""

    services: Services
    secure_cookies: bool = False

    @property
    def themes_dir(self) -> Path:
        return self.services.settings.themes_dir

    @property
    def templates_dir(self) -> Path:
        return self.services.settings.templates_dir

    def reload_knowledge(self) -> str:
        """Swap the edited files into the running bot with /reload's own machinery; a broken file keeps the
        current knowledge base and says why."""
        from bot.core.startup import StartupError, reload_knowledge

        try:
            kb = reload_knowledge(self.services)
        except StartupError as exc:
            return f"The bot kept its current knowledge base: {exc}"
        return f"The bot now answers from {len(kb)} entries in {len(kb.themes)} themes."


class _SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response (pure ASGI, so streaming is untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- plumbing --------------------------------------------------------------------------------------
def _console(request: Request) -> Console:
    return request.app.state.console


def _now(request: Request) -> Any:
    return _console(request).services.clock()


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("pages", PAGES)
    context.setdefault("session", getattr(request.state, "session", None))
    return templates.TemplateResponse(request, name, context, status_code=status)


Page = Callable[[Request], Awaitable[Response]]


def signed_in(page: Page) -> Page:
    """Refuse without a live session (401, no data); on POST also refuse without the CSRF secret (403)."""

    async def guarded(request: Request) -> Response:
        console = _console(request)
        try:
            async with console.services.database.transaction() as session:
                signed = await auth.session_for(session=session, token=request.cookies.get(COOKIE),
                                                now=_now(request))
        except SQLAlchemyError:
            return render(request, "problem.html", 503, message="The database cannot be reached just now. "
                                                                "Please try again in a minute.")
        if signed is None:
            return render(request, "signed_out.html", 401)
        request.state.session = signed
        if request.method == "POST":
            form = await request.form(max_files=1, max_fields=50)
            request.state.form = form
            token = form.get("csrf")
            if not auth.csrf_matches(signed.csrf_token, token if isinstance(token, str) else None):
                return render(request, "problem.html", 403, message="This form has expired or did not come from "
                                                                    "the console. Go back, reload and try again.")
        return await page(request)

    guarded.__name__ = page.__name__
    return guarded


def _field(request: Request, name: str) -> str:
    value = request.state.form.get(name, "")
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


# -- sign-in ---------------------------------------------------------------------------------------
async def signin_page(request: Request) -> Response:
    """GET shows a button (spending nothing, so link previews are harmless); POST spends the link."""
    console = _console(request)
    if request.method == "GET":
        token = request.query_params.get("t", "")
        async with console.services.database.transaction() as session:
            usable = await auth.signin_is_usable(session=session, token=token, now=_now(request))
        return render(request, "signin.html", 200 if usable else 403, token=token if usable else "", usable=usable)
    form = await request.form(max_files=0, max_fields=5)
    token = form.get("t")
    async with console.services.database.transaction() as session:
        redeemed = await auth.redeem_signin(session=session, token=token if isinstance(token, str) else None,
                                            now=_now(request))
    if redeemed is None:
        return render(request, "signin.html", 403, token="", usable=False)
    session_token, info = redeemed
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, session_token, max_age=int((info.expires_at - _now(request)).total_seconds()),
                        httponly=True, samesite="strict", secure=console.secure_cookies, path="/")
    return response


@signed_in
async def signout(request: Request) -> Response:
    async with _console(request).services.database.transaction() as session:
        await auth.end_session(session=session, token=request.cookies.get(COOKIE))
    response = render(request, "signed_out.html", 200, signed_out=True)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- pages -----------------------------------------------------------------------------------------
@signed_in
async def home(request: Request) -> Response:
    kb = _console(request).services.kb
    return render(request, "home.html", entries=len(kb), themes=len(kb.themes))


@signed_in
async def questions(request: Request) -> Response:
    from bot.panel.store import list_drafts
    from bot.questions.gaps import find_gaps

    console = _console(request)
    days = _int(request.query_params.get("days"), 30, 1, 3650)
    async with console.services.database.transaction() as session:
        gaps = await find_gaps(session=session, now=_now(request), days=days, limit=50)
        drafts = await list_drafts(session=session)
    return render(request, "questions.html", gaps=gaps, drafts=drafts, days=days)


@signed_in
async def entry_list(request: Request) -> Response:
    kb = _console(request).services.kb
    query = request.query_params.get("q", "")[:200]
    found = entries.search_entries(kb, query)
    return render(request, "entries.html", found=found, query=query, total=len(kb),
                  themes={t.slug: t.title for t in kb.sorted_themes()})


async def _draft_prefill(console: Console, draft_id: str | None) -> dict[str, str]:
    from bot.panel.store import list_drafts

    if not draft_id or not draft_id.isdigit():
        return {}
    async with console.services.database.transaction() as session:
        drafts = await list_drafts(session=session)
    for draft in drafts:
        if draft.id == int(draft_id):
            return {"question": draft.question, "answer": draft.answer, "source": "PartnerBot"}
    return {}


@signed_in
async def entry_new(request: Request) -> Response:
    console = _console(request)
    kb = console.services.kb
    if request.method == "GET":
        prefill = {"question": request.query_params.get("question", "")[:200]}
        prefill.update(await _draft_prefill(console, request.query_params.get("draft")))
        if prefill.get("question"):
            prefill.setdefault("alternates", prefill["question"])
        return render(request, "entry_form.html", form=entries.form_for(**prefill), editing=None,
                      themes=kb.sorted_themes(), problems=[])
    return await _save(request, editing=None)


@signed_in
async def entry_edit(request: Request) -> Response:
    console = _console(request)
    kb = console.services.kb
    entry_id = request.path_params["entry_id"]
    entry = kb.get(entry_id)
    if entry is None:
        return render(request, "problem.html", 404, message=f"There is no entry {entry_id!r} (it may have been "
                                                            "removed). Search the entries instead.")
    if request.method == "GET":
        return render(request, "entry_form.html", form=entries.form_for(entry), editing=entry_id,
                      themes=kb.sorted_themes(), problems=[], saved=request.query_params.get("saved"),
                      reloaded=request.query_params.get("reloaded", "")[:300])
    return await _save(request, editing=entry_id)


async def _save(request: Request, *, editing: str | None) -> Response:
    console = _console(request)
    kb = console.services.kb
    form = {name: _field(request, name) for name in entries.FIELDS}
    if editing is not None:
        form["id"] = editing
    entry, problems = entries.entry_from_form(form)
    if entry is not None:
        result = await asyncio.to_thread(entries.save_entry, kb, console.themes_dir, console.templates_dir,
                                         form["theme"], entry, editing=editing)
        problems = result.problems
        if result.saved:
            reloaded = console.reload_knowledge()
            log.info("Console: entry %s %s", entry.id, "added" if result.created else "edited")
            from urllib.parse import urlencode

            return RedirectResponse(f"/entries/{entry.id}?" + urlencode({"saved": "added" if result.created
                                                                         else "saved", "reloaded": reloaded}),
                                    status_code=303)
    return render(request, "entry_form.html", 422, form=form, editing=editing, themes=kb.sorted_themes(),
                  problems=problems)


@signed_in
async def ask_page(request: Request) -> Response:
    console = _console(request)
    question = request.query_params.get("q", "")[:1000]
    outcome = console.services.matcher.ask(question) if question.strip() else None
    return render(request, "ask.html", question=question, outcome=outcome)


@signed_in
async def feedback_page(request: Request) -> Response:
    console = _console(request)
    async with console.services.database.transaction() as session:
        items = await views.feedback(session=session, kb=console.services.kb)
    return render(request, "feedback.html", items=items)


async def _cohort_preview(session: AsyncSession) -> dict[str, Any]:
    from bot.mentoring.cohort import load_cohort
    from bot.mentoring.matching import assign_cohort

    cohort = await load_cohort(session=session)
    result = assign_cohort(cohort.mentees, cohort.mentors, cohort.excluded_pairs)
    pairs = sorted((a.mentee_id, a.mentor_id) for a in result.assignments)
    fingerprint = hashlib.sha256(repr(pairs).encode()).hexdigest()[:16]
    return {"cohort": cohort, "result": result, "fingerprint": fingerprint, "ref": cohort.refs.get}


@signed_in
async def mentors_page(request: Request) -> Response:
    from bot.mentoring.cohort import list_profiles
    from bot.mentoring.lists import ORG_TYPES, REGIONS, TOPICS, label

    console = _console(request)
    async with console.services.database.transaction() as session:  # profiles and matches as of one moment
        profiles = await list_profiles(session=session)
        matches = await views.matches(session=session)
    for profile in profiles:
        profile["topic_labels"] = [label(TOPICS, slug) for slug in profile["topics"]]
        profile["region_label"] = label(REGIONS, profile["region"])
        profile["org_type_label"] = label(ORG_TYPES, profile["org_type"])
    return render(request, "mentors.html", profiles=profiles, matches=matches)


@signed_in
async def mentors_import(request: Request) -> Response:
    from bot.mentoring.csv_import import ImportFileError, import_rows, parse_csv, read_text

    console = _console(request)
    upload = request.state.form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(request, "problem.html", 400, message="Choose a CSV file to import.")
    data = await upload.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        return render(request, "problem.html", 413, message="That file is over 2 MB: split it into smaller files.")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "upload.csv"
        path.write_bytes(data)
        try:
            rows, problems = parse_csv(read_text(path))
        except ImportFileError as exc:
            return render(request, "problem.html", 400, message=f"Cannot import {upload.filename}: "
                                                                f"{str(exc).replace(str(path), 'the file')}")
    async with console.services.database.transaction() as session:
        report = await import_rows(session=session, rows=rows, now=_now(request))
    report.problems = problems
    return render(request, "mentors_import.html", report=report, filename=upload.filename)


@signed_in
async def mentors_match(request: Request) -> Response:
    from bot.mentoring.cohort import record_proposals

    console = _console(request)
    applied: int | None = None
    async with console.services.database.transaction() as session:  # the preview and what it applies: one unit
        preview = await _cohort_preview(session)
        changed = request.method != "GET" and _field(request, "fingerprint") != preview["fingerprint"]
        if request.method != "GET" and not changed:
            applied = await record_proposals(session=session, pairs=[(a.mentee_id, a.mentor_id, a.score, a.why)
                                                                     for a in preview["result"].assignments],
                                             now=_now(request))
    if changed:
        return render(request, "mentors_match.html", 409, applied=None, changed=True, **preview)
    return render(request, "mentors_match.html", applied=applied, changed=False, **preview)


@signed_in
async def partnerships_page(request: Request) -> Response:
    console = _console(request)
    minimum = console.services.settings.review_min_group
    async with console.services.database.transaction() as session:
        rows = await views.partnerships(session=session, min_group=minimum)
    return render(request, "partnerships.html", rows=rows, minimum=minimum)


@signed_in
async def usage_page(request: Request) -> Response:
    console = _console(request)
    days = _int(request.query_params.get("days"), 30, 7, 365)
    today = _now(request).astimezone(console.services.settings.tz).date()
    async with console.services.database.transaction() as session:
        rows = await views.usage(session=session, today=today, days=days)
    totals = {outcome: sum(day.counts[outcome] for day in rows) for outcome in views.OUTCOMES}
    return render(request, "usage.html", rows=rows, chart=usage_svg(rows), totals=totals, days=days)


def _int(value: str | None, default: int, low: int, high: int) -> int:
    if value is None or not value.strip().isdigit():
        return default
    return max(low, min(int(value), high))


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = "There is no such page." if status == 404 else "That did not work."
    return render(request, "problem.html", status, message=message)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("Console error on %s", request.url.path, exc_info=exc)
    if isinstance(exc, SQLAlchemyError):
        return render(request, "problem.html", 503, message="The database cannot be reached just now. "
                                                            "Please try again in a minute.")
    return render(request, "problem.html", 500, message="Something went wrong on our side; nothing was lost. "
                                                        "Please try again.")


def console_routes() -> list[Route | Mount]:
    """The console's routes, to mount on their own or beside the Telegram webhook."""
    return [
        Route("/", home),
        Route("/signin", signin_page, methods=["GET", "POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/questions", questions),
        Route("/entries", entry_list),
        Route("/entries/new", entry_new, methods=["GET", "POST"]),
        Route("/entries/{entry_id}", entry_edit, methods=["GET", "POST"]),
        Route("/ask", ask_page),
        Route("/feedback", feedback_page),
        Route("/mentors", mentors_page),
        Route("/mentors/import", mentors_import, methods=["POST"]),
        Route("/mentors/match", mentors_match, methods=["GET", "POST"]),
        Route("/partnerships", partnerships_page),
        Route("/usage", usage_page),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]


def create_app(console: Console, extra_routes: list[Route] | None = None, **starlette_options: Any) -> Starlette:
    """The console's ASGI app; ``extra_routes`` (the Telegram webhook) are tried first."""
    app = Starlette(routes=[*(extra_routes or []), *console_routes()],
                    middleware=[Middleware(_SecurityHeaders)],
                    exception_handlers={404: _not_found, 405: _not_found, Exception: _server_error},
                    **starlette_options)
    app.state.console = console
    return app
