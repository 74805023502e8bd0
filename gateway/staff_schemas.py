"""Response models of the staff console's API (``/staff/api/``): the session with the
vocabulary the console shows (outcomes, reasons, priorities), the queue, one ticket in
detail, and the result of an action on a ticket."""
from __future__ import annotations

from pydantic import BaseModel, JsonValue

from gateway.schemas import MessageOut


class StaffUserOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: str


class ReasonOut(BaseModel):
    label: str  # Swedish, for staff
    priority: int


class SessionOut(BaseModel):
    user: StaffUserOut
    csrf_token: str
    expires_at: str
    outcomes: dict[str, str]  # close outcome -> Swedish label
    reasons: dict[str, ReasonOut]  # handoff reason code -> label and priority
    priorities: dict[str, str]  # "0".."2" -> Swedish label
    login_method: str  # password | password+totp | oidc
    needs_totp: bool  # the role requires a second factor: only the account page until it is enrolled


class TicketSummaryOut(BaseModel):
    id: str
    conversation_id: str
    reason: str
    priority: int
    language: str
    status: str
    created_at: str
    waiting_seconds: int
    claimed_by: str | None
    claimed_by_name: str | None
    callback_requested: bool
    escalated_at: str | None
    outcome: str | None
    closed_at: str | None
    last_citizen_message_at: str | None


class QueueOut(BaseModel):
    open: list[TicketSummaryOut]
    recent: list[TicketSummaryOut]


class CannedReply(BaseModel):
    title: str
    text: str


class CannedOut(BaseModel):
    replies: list[CannedReply]


class TicketOut(TicketSummaryOut):
    reasoning: dict[str, JsonValue] | None
    callback: dict[str, JsonValue] | None  # only for the staff member who holds the ticket


class AcuteMark(BaseModel):
    reason: str | None
    detected_by: str | list[str] | None  # "lexicon", or ["nlu", "lexicon"] when both saw danger


class TranscriptMessage(BaseModel):
    id: str
    seq: int
    role: str
    text: str
    text_sv: str | None
    language: str
    machine_translated: bool
    author: str | None
    source: dict[str, JsonValue] | None
    created_at: str
    acute: AcuteMark | None
    text_sv_machine: bool = False  # the Swedish was machine-translated for the console


class NoteOut(BaseModel):
    id: int
    author: str
    text: str
    created_at: str


class HistoryEntry(BaseModel):
    actor: str
    action: str
    detail: dict[str, JsonValue] | None
    created_at: str


class TicketDetail(BaseModel):
    ticket: TicketOut
    messages: list[TranscriptMessage]
    notes: list[NoteOut]
    history: list[HistoryEntry]


class HandoffStatus(BaseModel):
    status: str
    reason: str
    position: int | None
    ticket_id: str
    staff_name: str | None
    callback_requested: bool
    outcome: str | None


class ActionResult(BaseModel):
    """After an action on a ticket: the citizen's handoff status and the messages the
    citizen was sent (as in the citizen's API)."""

    handoff: HandoffStatus | None
    messages: list[MessageOut]


class Ok(BaseModel):
    ok: bool


class LoginOptionsOut(BaseModel):
    password: bool  # username and password (with a code for admin and publisher)
    sso: bool  # single sign-on with the municipality's account
    sso_label: str
    sso_url: str
    sso_messages: dict[str, str]  # /staff?sso=<code> -> the Swedish message to show


class AccountOut(BaseModel):
    username: str
    display_name: str
    role: str
    active: bool
    totp: bool
    sso: bool


class AccountsOut(BaseModel):
    accounts: list[AccountOut]


class AccountChange(BaseModel):
    account: AccountOut
    sessions_ended: int


class TotpEnrolmentOut(BaseModel):
    secret: str  # base32, for typing into the app by hand
    uri: str  # otpauth://totp/...
