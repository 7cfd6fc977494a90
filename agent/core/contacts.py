"""Contact details: validation and the merge rule used by every channel and the agent."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from agent.core import validation
from agent.core.models import Contact


@dataclass(frozen=True)
class ContactDetails:
    """What we learned about a person; empty strings mean "not given"."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""

    def normalised(self, country: str) -> ContactDetails:
        """Validated copy: email syntax-checked, phone in E.164 for the workspace country."""
        return replace(
            self,
            first_name=validation.name(self.first_name, "first_name", 100),
            last_name=validation.name(self.last_name, "last_name", 100),
            email=validation.email(self.email) if _given(self.email, "email") else "",
            phone=validation.phone(self.phone, country) if _given(self.phone, "phone") else "",
            address=validation.name(self.address, "address", 500),
        )

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


def _given(value: str, field: str) -> bool:
    return bool(validation.as_text(value, field).strip())


def merge(contact: Contact, details: ContactDetails) -> dict[str, str]:
    """Copy every given detail onto the contact (newest wins); return what changed."""
    changes = {}
    for f in fields(details):
        value = getattr(details, f.name)
        if value and getattr(contact, f.name) != value:
            setattr(contact, f.name, value)
            changes[f.name] = value
    return changes
