"""Probe authorizer: "Bearer allow" passes (echoing its event in the context); "Bearer boom" raises."""


def lambda_handler(event, context):
    identity = event["identitySource"][0]
    if identity == "Bearer boom":
        raise RuntimeError("the probe authorizer was asked to raise")
    if identity != "Bearer allow":
        return {"isAuthorized": False}
    return {
        "isAuthorized": True,
        "context": {
            "tenant_id": "probe-tenant",
            "user_id": "probe-user",
            "type": event["type"],
            "version": event["version"],
            "route_arn": event["routeArn"],
            "route_key": event["routeKey"],
        },
    }
