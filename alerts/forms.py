"""The channel form: the webhook URL and the signing secret are write-only (docs/alerts.md).

Neither is ever rendered back into a page: the form shows whether each is set, and an empty field keeps the
stored value. Each kind of channel needs its own fields (recipients for e-mail, a webhook for a robot).
"""

from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminPasswordWidget, UnfoldAdminTextareaWidget, UnfoldBooleanSwitchWidget

from .models import Alert, Channel, ChannelKind

WRITE_ONLY = ("webhook_url", "secret")


class ChannelForm(forms.ModelForm):
    webhook_url = forms.CharField(
        label=_("webhook URL"),
        required=False,
        max_length=500,
        widget=UnfoldAdminPasswordWidget(render_value=False),
        help_text=_("Robots only: the address the robot's settings show. It carries the robot's key: write-only."),
    )
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        max_length=200,
        widget=UnfoldAdminPasswordWidget(render_value=False),
        help_text=_("DingTalk (SEC…) and Feishu robots with signature verification on: write-only."),
    )
    clear_secret = forms.BooleanField(
        label=_("remove the signing secret"), required=False, widget=UnfoldBooleanSwitchWidget
    )

    class Meta:
        model = Channel
        fields = (
            "name",
            "kind",
            "enabled",
            "recipients",
            "webhook_url",
            "secret",
            "rules",
            "service_engineer",
            "quiet_start",
            "quiet_end",
        )
        widgets = {"recipients": UnfoldAdminTextareaWidget(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in WRITE_ONLY:
            if getattr(self.instance, name, ""):
                self.fields[name].help_text = _("Set. Leave empty to keep it; type a new one to replace it.")

    def clean(self):
        data = super().clean()
        for name in WRITE_ONLY:  # empty: keep what is stored
            if not data.get(name):
                data[name] = getattr(self.instance, name, "")
        if data.get("clear_secret"):
            data["secret"] = ""
        kind = data.get("kind")
        if kind == ChannelKind.EMAIL:
            addresses = Channel(recipients=data.get("recipients") or "").recipient_list
            if not addresses:
                self.add_error("recipients", _("Give at least one e-mail address."))
            for address in addresses:
                try:
                    validate_email(address)
                except ValidationError:
                    self.add_error("recipients", _("“%(address)s” is not an e-mail address.") % {"address": address})
        elif kind:
            url = data.get("webhook_url", "")
            parts = urlsplit(url)
            if not url:
                self.add_error("webhook_url", _("A robot needs its webhook URL."))
            elif parts.scheme not in ("http", "https") or not parts.netloc:
                self.add_error("webhook_url", _("Enter the webhook URL as the robot's settings show it (https://…)."))
        if (data.get("quiet_start") is None) != (data.get("quiet_end") is None):
            self.add_error("quiet_end", _("Give both ends of the quiet hours, or neither."))
        return data


class SilenceForm(forms.ModelForm):
    """The alert's page: silence it until a date, with a reason (or lift the silence)."""

    class Meta:
        model = Alert
        fields = ("silenced_until", "silence_reason")

    def clean(self):
        data = super().clean()
        if data.get("silenced_until") and not data.get("silence_reason"):
            self.add_error("silence_reason", _("Say why it is silenced."))
        return data
