"""Request models of the core operations (ZStack field names).

The gateway validates each call into one of these before a job is recorded, so a
malformed call is a 400 and never a job. ``extra="forbid"``: an unknown parameter
is a mistake worth telling the caller about.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from volplane.sizes import volume_size

Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
Description = Annotated[str, StringConstraints(max_length=2048)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
# A volume's size in bytes, rounded up to a whole sector (``volplane.sizes``).
VolumeSize = Annotated[int, Field(gt=0), AfterValidator(volume_size)]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Tagged(RequestModel):
    systemTags: list[Tag] = Field(default_factory=list, max_length=100)
    userTags: list[Tag] = Field(default_factory=list, max_length=100)


class ResourceRef(RequestModel):
    uuid: Uuid


# --- zones -----------------------------------------------------------------


class CreateZone(Tagged):
    name: Name
    description: Description | None = None
    resourceUuid: Uuid | None = None


class UpdateZone(ResourceRef):
    name: Name | None = None
    description: Description | None = None


class ChangeZoneState(ResourceRef):
    stateEvent: Literal["enable", "disable"]


class DeleteResource(ResourceRef):
    deleteMode: Literal["Permissive", "Enforcing"] = "Permissive"


# --- accounts ----------------------------------------------------------------


class CreateAccountParams(Tagged):
    """What a client sends; the password is the sha512 hex a login will send."""

    name: Name
    password: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    description: Description | None = None
    resourceUuid: Uuid | None = None


class CreateAccount(Tagged):
    """What the job records: the password already hashed by the gateway."""

    name: Name
    passwordHash: str
    description: Description | None = None
    resourceUuid: Uuid | None = None


class RotateWebhookSecret(ResourceRef):
    pass


# --- test support ----------------------------------------------------------------


class DebugSleep(RequestModel):
    """A slow operation for reliability tests; registered only when enabled."""

    seconds: float = Field(ge=0, le=600)
    zoneName: Name | None = None
    failWith: str | None = None
    # No cancel points while sleeping, like an agent operation that cannot be stopped.
    uninterruptible: bool = False
