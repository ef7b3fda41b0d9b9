"""ebMS 2.0 and CPPA 2.0 constants: namespaces, the MSH service, actions, actors, error codes.

Values follow the OASIS ebMS 2.0 specification and the Digikoppeling Koppelvlakstandaard ebMS2.
"""

from __future__ import annotations

from typing import Final

# --- namespaces ------------------------------------------------------------------------------
SOAP_NS: Final = "http://schemas.xmlsoap.org/soap/envelope/"
EB_NS: Final = "http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
CPPA_NS: Final = "http://www.oasis-open.org/committees/ebxml-cppa/schema/cpp-cpa-2_0.xsd"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"

#: Prefixes used when we write XML (and for XPath when we read it).
NSMAP: Final = {"soap": SOAP_NS, "eb": EB_NS, "xlink": XLINK_NS}
CPA_NSMAP: Final = {"cppa": CPPA_NS, "ds": DS_NS, "xlink": XLINK_NS}

EB_VERSION: Final = "2.0"

# --- the MSH service and its actions ---------------------------------------------------------
MSH_SERVICE: Final = "urn:oasis:names:tc:ebxml-msg:service"
ACTION_PING: Final = "Ping"
ACTION_PONG: Final = "Pong"
ACTION_ACKNOWLEDGMENT: Final = "Acknowledgment"
ACTION_MESSAGE_ERROR: Final = "MessageError"
ACTION_STATUS_REQUEST: Final = "StatusRequest"
ACTION_STATUS_RESPONSE: Final = "StatusResponse"
MSH_ACTIONS: Final = (
    ACTION_PING,
    ACTION_PONG,
    ACTION_ACKNOWLEDGMENT,
    ACTION_MESSAGE_ERROR,
    ACTION_STATUS_REQUEST,
    ACTION_STATUS_RESPONSE,
)

# --- actors ----------------------------------------------------------------------------------
ACTOR_TO_PARTY_MSH: Final = "urn:oasis:names:tc:ebxml-msg:actor:toPartyMSH"
ACTOR_NEXT_MSH: Final = "urn:oasis:names:tc:ebxml-msg:actor:nextMSH"
#: The SOAP 1.1 "next" actor, required on eb:SyncReply.
SOAP_ACTOR_NEXT: Final = "http://schemas.xmlsoap.org/soap/actor/next"

# --- errors ----------------------------------------------------------------------------------
ERROR_CODE_CONTEXT: Final = "urn:oasis:names:tc:ebxml-msg:service:errors"
VALUE_NOT_RECOGNIZED: Final = "ValueNotRecognized"
NOT_SUPPORTED: Final = "NotSupported"
INCONSISTENT: Final = "Inconsistent"
OTHER_XML: Final = "OtherXml"
DELIVERY_FAILURE: Final = "DeliveryFailure"
TIME_TO_LIVE_EXPIRED: Final = "TimeToLiveExpired"
SECURITY_FAILURE: Final = "SecurityFailure"
MIME_PROBLEM: Final = "MimeProblem"
UNKNOWN: Final = "Unknown"
ERROR_CODES: Final = (
    VALUE_NOT_RECOGNIZED,
    NOT_SUPPORTED,
    INCONSISTENT,
    OTHER_XML,
    DELIVERY_FAILURE,
    TIME_TO_LIVE_EXPIRED,
    SECURITY_FAILURE,
    MIME_PROBLEM,
    UNKNOWN,
)
SEVERITY_WARNING: Final = "Warning"
SEVERITY_ERROR: Final = "Error"

# --- status service --------------------------------------------------------------------------
MESSAGE_STATUSES: Final = ("UnAuthorized", "NotRecognized", "Received", "Processed", "Forwarded")

# --- HTTP ------------------------------------------------------------------------------------
#: Digikoppeling's SOAPAction value, sent and compared *with* the quotes.
SOAP_ACTION: Final = '"ebXML"'
SOAP_ACTION_HEADER: Final = "SOAPAction"
TEXT_XML: Final = "text/xml; charset=UTF-8"

# --- Digikoppeling conventions ---------------------------------------------------------------
PARTY_ID_TYPE_OIN: Final = "urn:osb:oin"
SERVICE_TYPE_OSB: Final = "urn:osb:services"
