"""Strings of third-party apps that the console shows but their own catalogs leave in English (or word
awkwardly) in Simplified Chinese.

Never imported: it exists so that ``makemessages`` puts these strings into the project's catalog
(``locale/zh_Hans``), which Django consults before any app's own (``LOCALE_PATHS``). django-axes ships
no Chinese catalog at all (its login records in the admin, its lockout message); Django 5.2's and
django-import-export's zh_Hans catalogs miss a few strings of the pages the console uses.
Only strings the console can show belong here; each must stay byte-for-byte the package's own msgid,
and ``bin/check-translations`` holds their translations to the same rules as every other string.
"""

from django.utils.translation import gettext_noop as _
from django.utils.translation import ngettext_lazy

AXES = [
    # axes/models.py, axes/admin.py (the login records in the console), axes/conf.py (the lockout answer)
    _("access attempt"),
    _("access attempts"),
    _("access failure"),
    _("access failures"),
    _("access log"),
    _("access logs"),
    _("access attempt expiration"),
    _("access attempt expirations"),
    _("Access Attempt"),
    _("Access lock out"),
    _("User Agent"),
    _("IP Address"),
    _("Username"),
    _("HTTP Accept"),
    _("Path"),
    _("Attempt Time"),
    _("GET Data"),
    _("POST Data"),
    _("Failed Logins"),
    _("Expires At"),
    _("The time when access attempt expires and is no longer valid."),
    _("Logout Time"),
    _("Session key hash (sha256)"),
    _("Locked Out"),
    _("Form Data"),
    _("Meta Data"),
    _("Clean up expired attempts"),
    _("Not set"),
    _("Attempt Remaining"),
    _("Account locked: too many login attempts. Please try again later."),
    _("Account locked: too many login attempts. Contact an admin to unlock your account."),
]

DJANGO = [
    # django/contrib/admin: the index's table headers (read by screen readers), the title of a form with errors
    _("Model name"),
    _("Add link"),
    _("Change or view list link"),
    _("Error:"),
    _("Forgotten your login credentials?"),
    _("In case you’ve forgotten, you are:"),
    _("After you’ve created a user, you’ll be able to edit more user options."),
    # django/contrib/admin: the index's sidebar, which Django's catalog words awkwardly (最近动作, 无可选的)
    _("Recent actions"),
    _("My actions"),
    _("None available"),
    # django/contrib/auth: adding a console login with too short a password
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
    # django/forms
    _("%(model)s instance with %(field)s %(value)r is not a valid choice."),
]

IMPORT_EXPORT = [
    # import_export: the export page and action (the console never imports)
    _("Select all"),
    _("Resource"),
    _("Home"),
    _('Select at least 1 field for "%(resource_name)s" to export'),
    _("export failed due to IllegalCharacterError"),
    ngettext_lazy("Export %(len)s selected item.", "Export %(len)s selected items.", "len"),
]
