"""账号与安全: staff members, roles, API tokens and login records, in the console's theme.

Adding a staff member is one page: username, name, password, role (运维 / 技术支持, ``console.roles``), active. The
role is the member's group; raw permission lists and the superuser flag stay on the page for superusers only,
and only a superuser may change a superuser. Django's, DRF's and django-axes' own admins are registered again
on the theme's ``ModelAdmin`` so that their pages look like the rest of the console (importing their admin
modules here registers theirs first, so ``reregister`` replaces them whatever the order of the apps).
"""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminSelectWidget

from zwadmin.admin_lists import ConsoleListMixin

from .roles import ROLES


def role_field(required: bool) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("role"),
        choices=[*([] if required else [("", _("no role"))]), *[(name, name) for name in ROLES]],
        required=required,
        widget=UnfoldAdminSelectWidget,
        help_text=_("运维 keep the registry; 技术支持 see everything and change nothing."),
    )


def user_role(user: User) -> str:
    return next((group.name for group in user.groups.all() if group.name in ROLES), "")


def set_role(user: User, role: str) -> None:
    """Make ``role`` the user's only role group; other groups (a superuser's own) stay."""
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
    if role:
        user.groups.add(Group.objects.get(name=role))


class StaffCreationForm(UserCreationForm):
    """A new staff member: username, name, password twice, role, active."""

    role = role_field(required=True)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "is_active")
        labels = {"first_name": _("name")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["is_active"].initial = True
        self.fields.pop("usable_password", None)  # a staff member logs in with a password: always set one

    def save(self, commit=True):
        self.instance.is_staff = True  # the console is for staff; the role is set once saved (save_related)
        return super().save(commit)


class StaffChangeForm(UserChangeForm):
    role = role_field(required=False)

    class Meta(UserChangeForm.Meta):
        labels = {"first_name": _("name")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role"].initial = user_role(self.instance)


class StaffAdmin(ConsoleListMixin, BaseUserAdmin, ModelAdmin):
    form = StaffChangeForm
    add_form = StaffCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "first_name", "role", "is_active", "is_superuser", "last_login")
    list_filter = ("is_active", "is_superuser", "groups")
    search_fields = ("username", "first_name", "last_name", "email")
    add_fieldsets = ((None, {"fields": ("username", "first_name", "password1", "password2", "role", "is_active")}),)
    staff_fieldsets = (
        (None, {"fields": ("username", "first_name", "password", "role", "is_active")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    superuser_fieldsets = (
        (
            _("Permissions"),
            {"classes": ("collapse",), "fields": ("is_staff", "is_superuser", "groups", "user_permissions")},
        ),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("role"))
    def role(self, user: User) -> str:
        return user_role(user) or "—"

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if request.user.is_superuser:
            return (*self.staff_fieldsets, *self.superuser_fieldsets)
        return self.staff_fieldsets

    def has_change_permission(self, request, obj=None):
        # Only a superuser changes a superuser (or makes one: the flag is on the superusers' page only).
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "role" in form.cleaned_data:  # after the groups field (superusers' page) has been saved
            set_role(form.instance, form.cleaned_data["role"])


def reregister(model, admin_class):
    """Register ``admin_class`` for ``model`` in place of the library's own admin."""
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, admin_class)


class GroupAdmin(ConsoleListMixin, BaseGroupAdmin, ModelAdmin):
    pass


class TokenAdmin(ConsoleListMixin, BaseTokenAdmin, ModelAdmin):
    pass


class ThemedAccessAttemptAdmin(ConsoleListMixin, AccessAttemptAdmin, ModelAdmin):
    pass


class ThemedAccessLogAdmin(ConsoleListMixin, AccessLogAdmin, ModelAdmin):
    pass


class ThemedAccessFailureLogAdmin(ConsoleListMixin, AccessFailureLogAdmin, ModelAdmin):
    pass


reregister(User, StaffAdmin)
reregister(Group, GroupAdmin)
reregister(TokenProxy, TokenAdmin)
reregister(AccessAttempt, ThemedAccessAttemptAdmin)
reregister(AccessLog, ThemedAccessLogAdmin)
reregister(AccessFailureLog, ThemedAccessFailureLogAdmin)
