'use strict';
// The customer filter of the telemetry changelists: choosing a customer in the
// autocomplete (select2) reloads the list filtered to it; clearing it shows all.
{
    const $ = django.jQuery;
    $(document).on('change', 'form.customer-autocomplete-filter select', function() {
        if (!this.value) {
            this.disabled = true; // leave the parameter out rather than send it empty
        }
        this.form.submit();
    });
}
