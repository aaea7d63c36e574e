"""Devices: a person's push devices, by token.

Where it sits: the `add_device` and `delete_device` verbs of `WorkspaceState` (v1 `PUT
/customers/{id}/devices`, `DELETE /customers/{id}/devices/{token}`, v2 add_device/delete_device). A
token belongs to one person: the workspace's `device_owners` index moves it when another person adds
it.
"""

from __future__ import annotations

from .objects import update_attributes
from .people import Device
from .verb_io import JSON, Ident, Outcome, unix_seconds
from .workspace_data import WorkspaceBase


class DeviceVerbs(WorkspaceBase):
    def add_device(
        self,
        ident: Ident,
        now: float,
        *,
        token: str,
        platform: str | None,
        last_used: JSON = None,
        attributes: dict[str, JSON] | None = None,
    ) -> Outcome:
        """Add or update a device (by token); a token another person has moves to this person."""
        rec = self._begin(now)
        person = self._person_for(ident, rec, create=True)
        if person is None:
            return rec.outcome()
        if isinstance(last_used, str) and last_used.isdigit():
            last_used = int(last_used)
        used = int(now) if last_used in (None, 0) else unix_seconds(last_used)
        if used is None:
            rec.note(f"last_used {last_used!r} is not Unix seconds: replaced with receipt time {int(now)}")
            used = int(now)
        owner = self.device_owners.get(token)
        if owner is not None and owner != person.cio_id:
            previous = self.people.by_cio_id(owner)
            if previous is not None:
                del previous.devices[token]
            rec.change("device_deleted", person=owner, token=token)
        device = person.devices.get(token)
        if device is None:
            device = Device(token, platform, used, {})
            update_attributes(device.attributes, attributes or {})
            person.devices[token] = device
            self.device_owners[token] = person.cio_id
            rec.change("device_added", person=person.cio_id, token=token, platform=platform)
        else:
            device.platform = platform if platform is not None else device.platform
            device.last_used = used
            update_attributes(device.attributes, attributes or {})
            rec.change("device_updated", person=person.cio_id, token=token, platform=device.platform)
        return rec.outcome()

    def delete_device(self, ident: Ident, now: float, *, token: str) -> Outcome:
        rec = self._begin(now)
        person = self._existing(ident, rec, "no device deleted")
        if person is None:
            return rec.outcome()
        if person.devices.pop(token, None) is None:
            rec.note(f"{person} has no device {token!r}: nothing deleted")
            return rec.outcome()
        del self.device_owners[token]
        rec.change("device_deleted", person=person.cio_id, token=token)
        return rec.outcome()
