# Copyright 2026 The nova-ha-ext Authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""The one place where the reconciler talks to Cinder: volume attachments.

After XenServer HA restarted a VM on another host, its volumes' Cinder
attachments still carry the old host's connector (host, IP, iSCSI
initiator), and the old host's export stays open. :class:`AttachmentMover`
moves each attachment to the new host's connector in the order Nova's
evacuate uses (``ComputeManager._do_rebuild_instance``): Cinder lets a
volume that is not multiattach have one connected attachment at a time, so
the old one must go before the new one is connected.

1. create a new attachment (a reservation: the volume stays in use);
2. delete the old attachment: Cinder closes the old host's export;
3. save the new ``attachment_id`` in the block device mapping, so that it
   always names an attachment that exists;
4. update the new attachment with the new host's connector and complete
   it;
5. save its ``connection_info`` in the mapping, with the connector stashed
   under ``connector`` as Nova does (``nova.virt.block_device``): the next
   pass reads from it which host the attachment is for.

A failure after step 3 leaves the mapping on a reserved attachment of the
volume, with the old connector still stashed: the next pass sees it and
moves it again. Nothing is detached from the guest: XenServer already runs
the VM on the new host with its disks.

Nova calls Cinder with the ``[cinder]`` credentials and, when ``[service_user]
send_service_user_token`` is set, a service token: Cinder refuses to delete
or update an attachment in use without one.
"""

from oslo_log import log as logging
from oslo_serialization import jsonutils

from nova.volume import cinder

LOG = logging.getLogger(__name__)

#: The key of ``connection_info`` where Nova stashes the connector.
CONNECTOR_KEY = 'connector'


class AttachmentError(Exception):
    """Cinder refused or did not answer; the message names the volume."""


def service_token_problem(conf):
    """Why Cinder will refuse to move attachments, or None.

    :param conf: Nova's ``ConfigOpts``, with ``[service_user]``.
    """
    if conf.service_user.send_service_user_token:
        return None
    return ("[service_user] send_service_user_token is False: Cinder "
            "refuses to delete or update a volume attachment in use without "
            "a service token, so the volume attachments of relocated "
            "instances cannot follow them. Set it to True, with the service "
            "user credentials nova-compute uses, in the configuration files "
            "of nova-ha-reconciler.")


class AttachmentMover:
    """Move the Cinder attachments of an instance's volumes to a host.

    :param volume_api: a ``nova.volume.cinder.API``; a new one when None.
    """

    def __init__(self, volume_api=None):
        self._api = volume_api or cinder.API()

    def move(self, context, instance_uuid, bdm, connector):
        """Move one volume's attachment to ``connector``'s host.

        :param bdm: the volume's ``objects.BlockDeviceMapping``, in the
            instance's cell.
        :param connector: the new host's Cinder connector.
        :raises AttachmentError: the move stopped; the mapping names an
            attachment that exists.
        """
        volume_id, old_id = bdm.volume_id, bdm.attachment_id
        host = connector.get('host')
        try:
            new_id = self._api.attachment_create(
                context, volume_id, instance_uuid)['id']
        except Exception as exc:
            raise AttachmentError(
                "Cinder refused a new attachment of volume %s for host %s: "
                "%s" % (volume_id, host, _answer(exc)))
        try:
            self._api.attachment_delete(context, old_id)
        except Exception as exc:
            self._forget(context, volume_id, new_id)
            raise AttachmentError(
                "Cinder refused to delete attachment %s of volume %s (the "
                "old host's): %s" % (old_id, volume_id, _answer(exc)))
        bdm.attachment_id = new_id
        bdm.save()
        try:
            info = self._api.attachment_update(
                context, new_id, dict(connector),
                bdm.device_name)['connection_info']
            self._api.attachment_complete(context, new_id)
        except Exception as exc:
            raise AttachmentError(
                "Cinder refused to connect attachment %s of volume %s to "
                "host %s: %s; the volume stays reserved for the instance "
                "and the next pass tries again"
                % (new_id, volume_id, host, _answer(exc)))
        info = dict(info or {})
        info[CONNECTOR_KEY] = dict(connector)
        bdm.connection_info = jsonutils.dumps(info)
        bdm.save()
        LOG.info("Moved the attachment of volume %(volume)s to host "
                 "%(host)s: attachment %(old)s replaced by %(new)s.",
                 {'volume': volume_id, 'host': host, 'old': old_id,
                  'new': new_id}, instance_uuid=instance_uuid)

    def _forget(self, context, volume_id, attachment_id):
        """Delete a reservation that will not be used."""
        try:
            self._api.attachment_delete(context, attachment_id)
        except Exception as exc:
            LOG.warning("Could not delete the unused attachment %(id)s of "
                        "volume %(volume)s: %(error)s. Delete it with "
                        "'cinder attachment-delete %(id)s'.",
                        {'id': attachment_id, 'volume': volume_id,
                         'error': _answer(exc)})


def _answer(exc):
    """Cinder's answer, on one line."""
    return ' '.join(str(exc).split()) or type(exc).__name__
