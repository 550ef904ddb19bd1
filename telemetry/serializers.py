"""Explicit serializers of the per-customer lists: the wire fields, in the document's order."""

from rest_framework import serializers

from .models import ImGroup, ImUser

IM_USER_FIELDS = ("code", "uuid", "nickname", *ImUser.FIGURES, "first_reported_at", "last_reported_at")
IM_GROUP_FIELDS = (
    "code",
    "gid",
    "name",
    "createrid",
    "creatername",
    "ucount",
    "msgcount",
    "ctime",
    "fcount",
    "ncount",
    "first_reported_at",
    "last_reported_at",
)


class ImUserSerializer(serializers.ModelSerializer):
    """One IM user as ``/user/list`` answers it, plus when it was first and last reported."""

    # The list is for one customer: the view annotates its code rather than joining the customer row.
    code = serializers.CharField(read_only=True)

    class Meta:
        model = ImUser
        fields = IM_USER_FIELDS
        read_only_fields = fields


class ImGroupSerializer(serializers.ModelSerializer):
    """One IM group as ``/group/list`` answers it, plus when it was first and last reported."""

    code = serializers.CharField(read_only=True)

    class Meta:
        model = ImGroup
        fields = IM_GROUP_FIELDS
        read_only_fields = fields
