"""Strings of third-party apps that the console shows but their own catalogs leave in English (or word
awkwardly) in Simplified Chinese.

Never imported: it exists so that ``makemessages`` puts these strings into the project's catalog
(``locale/zh_Hans``), which Django consults before any app's own (``LOCALE_PATHS``). django-axes ships
no Chinese catalog at all (its login records in the admin, its lockout message), nor does django-unfold, the
console's theme; Django 5.2's, django-import-export's and django-simple-history's zh_Hans catalogs miss a few
strings of the pages the console uses, and word others with stray spaces ("增加 客户", "选择 客户 来修改").
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
    # django/contrib/admin: page titles and buttons whose Chinese has stray spaces or a wrong word
    _("Select %s"),
    _("Select %s to change"),
    _("Select %s to view"),
    _("Add %s"),
    _("Change %s"),
    _("View %s"),
    _("Add %(name)s"),
    _("Change history: %s"),
    _(" By %(filter_title)s "),
    _("Select all %(total_count)s %(module_name)s"),
    _("Add another %(model)s"),
    _("Delete selected %(model)s"),
    _("Change selected %(model)s"),
    _("View selected %(model)s"),
    _("Sorting priority: %(priority_number)s"),
    _("Run the selected action"),
    _("Action"),
    _("Log out"),
    _("Save and add another"),
    _("Save as new"),
    _("Click here to select the objects across all pages"),
    ngettext_lazy("%(counter)s result", "%(counter)s results", "counter"),
    _("%(full_result_count)s total"),
    _("Clear all filters"),
    _("Toggle sorting"),
    _("Remove from sorting"),
    _("Models in the %(name)s application"),
    _("You don’t have permission to view or edit anything."),
    _("Django site admin"),
    _("Django administration"),
    _("Change password"),
]

UNFOLD = [
    # unfold (the console's theme), which ships no Chinese: lists, filters, actions, forms, navigation
    _("Select record"),
    _("Select action"),
    _("Select action to run"),
    _("Select value"),
    _("Run"),
    _("From"),
    _("To"),
    _("Date from"),
    _("Date to"),
    _("Not enough data."),
    _("Select format"),
    _("This exporter will export the following fields"),
    _("Changes"),
    _("Filters"),
    _("Apply Filters"),
    _("Expand row"),
    _("Type to search"),
    _("No data"),
    _("More actions"),
    _("All applications"),
    _("True"),
    _("False"),
    _("Select all rows"),
    _("Recent searches"),
    _("No recent searches"),
    _("No results matching your query"),
    _("Loading more results..."),
    _("No results found"),
    _("This page yielded into no results. Create a new item or reset your filters."),
    _("Reset filters"),
    _("Go back"),
    _("Previous"),
    _("Next"),
    _("Search apps and models..."),
    _("General"),
    _("Light"),
    _("Dark"),
    _("System"),
    _("Return to site"),
    _("Toggle password visibility"),
    _("Date"),
    _("Welcome back to"),
    _("You have been successfully logged out from the administration"),
    _("Items must be selected in order to perform actions on them. No items have been changed."),
    _("Dataset not found. No action performed."),
    _("After you've created a user, you’ll be able to edit more user options."),
    _(
        "Raw passwords are not stored, so there is no way to see this user’s password, but you can change the "
        'password using <a href="{}" class="text-primary-600 dark:text-primary-500">this form</a>.'
    ),
]

SIMPLE_HISTORY = [
    # simple_history: the history page (the theme's columns), which the library's catalog words with stray spaces
    _("Object"),
    _("Comment"),
    _("Changed by"),
    _("Change reason"),
    _("This object doesn't have a change history."),
]

IMPORT_EXPORT = [
    # import_export: the export page and action (the console never imports)
    _("Select all"),
    _("Resource"),
    _("Home"),
    _('Select at least 1 field for "%(resource_name)s" to export'),
    _("export failed due to IllegalCharacterError"),
    ngettext_lazy("Export %(len)s selected item.", "Export %(len)s selected items.", "len"),
    _("Export selected %(verbose_name_plural)s"),
    _("Export"),
]
