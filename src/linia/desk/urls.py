from __future__ import annotations

from django.urls import path, re_path
from django.views.generic import RedirectView

from linia.desk import realtime_views
from linia.desk.views import directory, new_ticket, ticket, tickets
from linia.dispatch import views as dispatch_views
from linia.tickets import desk_views as customer_link_views

app_name = "desk"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:landing", permanent=False), name="home"),  # by role
    path("tenant/", tickets.switch_tenant_view, name="switch_tenant"),
    path("tickets/", tickets.ticket_list_view, name="tickets"),
    re_path(r"^tickets/export\.(?P<fmt>csv|xlsx)$", tickets.ticket_export, name="tickets_export"),
    path("tickets/bulk/", tickets.bulk_update, name="bulk_update"),
    path("tickets/filters/", tickets.saved_filter_create, name="filter_create"),
    path("tickets/filters/<int:pk>/", tickets.saved_filter_open, name="filter_open"),
    path("tickets/filters/<int:pk>/delete/", tickets.saved_filter_delete, name="filter_delete"),
    path("tickets/new/", new_ticket.ticket_new, name="ticket_new"),
    path("contacts/lookup/", new_ticket.contact_lookup, name="contact_lookup"),
    path("tickets/custom-fields/", ticket.custom_fields_partial, name="custom_fields"),
    path("tickets/<int:pk>/", ticket.ticket_view, name="ticket"),
    path("tickets/<int:pk>/reply/", ticket.ticket_reply, name="ticket_reply"),
    path("tickets/<int:pk>/update/", ticket.ticket_update, name="ticket_update"),
    path("tickets/<int:pk>/merge/", ticket.ticket_merge, name="ticket_merge"),
    path("tickets/<int:pk>/forward/", dispatch_views.ticket_forward, name="ticket_forward"),
    path("tickets/<int:pk>/emails/<int:outbound_id>/retry/", dispatch_views.ticket_email_retry,
         name="ticket_email_retry"),
    path("tickets/<int:pk>/customer-link/", customer_link_views.ticket_customer_link, name="ticket_customer_link"),
    path("tickets/<int:pk>/customer-link/revoke/", customer_link_views.ticket_customer_links_revoke,
         name="ticket_customer_links_revoke"),
    path("tickets/<int:pk>/attachments/<int:attachment_id>/", ticket.attachment_download, name="attachment"),
    path("directory/", directory.directory, name="directory"),
    re_path(r"^directory/export\.(?P<fmt>csv|xlsx)$", directory.directory_export, name="directory_export"),
    path("directory/stores/pick/", directory.store_picker, name="store_picker"),
    path("directory/stores/<int:pk>/", directory.store_detail, name="store"),
    path("desk/agent/", realtime_views.agent_desktop, name="agent"),
    path("desk/agent/tasks/<int:task_id>/context/", realtime_views.task_context, name="agent_task_context"),
    path("desk/agent/tasks/<int:task_id>/canned/", realtime_views.task_canned, name="agent_task_canned"),
    path("desk/supervisor/", realtime_views.supervisor_view, name="supervisor"),
    re_path(r"^desk/supervisor/export\.(?P<fmt>csv|xlsx)$", realtime_views.supervisor_export, name="supervisor_export"),
]
