package dev.conveyor.api.openapi;

import dev.conveyor.api.auth.Caller;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;
import io.swagger.v3.oas.models.tags.Tag;
import java.util.List;
import java.util.Map;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.utils.SpringDocUtils;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI 3.1 document of {@code /v1} at {@code /v3/api-docs}, browsable at {@code /swagger-ui.html}. springdoc
 * finds the operations in the controllers' mappings; {@link Operations} and {@link Schemas} say what they take and
 * answer. Springdoc builds the document on the first request for it and caches it: no other request passes through it.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfig {

    /** The name of the security scheme: an API key sent as a bearer token. */
    static final String BEARER = "apiKey";

    static {
        // who calls is taken from the Authorization header, not a parameter of the operation
        SpringDocUtils.getConfig().addRequestWrapperToIgnore(Caller.class);
    }

    @Bean
    OpenAPI conveyorOpenApi() {
        return new OpenAPI()
                .info(new Info().title("Conveyor API").version("1")
                        .description("A distributed job queue. Every error is an RFC 9457 problem document "
                                + "(application/problem+json). With API keys configured, every operation needs one: "
                                + "`Authorization: Bearer <key>`. The reference with examples is docs/api.md in the "
                                + "repository."))
                // relative: the document is right for whatever host and port serve it
                .servers(List.of(new Server().url("/")))
                .tags(List.of(new Tag().name("jobs").description("Submit, read, cancel and retry jobs"),
                        new Tag().name("queues").description("Jobs by status per queue"),
                        new Tag().name("workers").description("The live workers"),
                        new Tag().name("keys").description("Make, list and revoke API keys")));
    }

    @Bean
    OpenApiCustomizer conveyorOperations() {
        var operations = Operations.all();
        var parameters = Operations.parameters();
        return openApi -> {
            openApi.setComponents(new Components().schemas(Schemas.all())
                    .addSecuritySchemes(BEARER, new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                            .description("An API key (`cvk_...`): `Authorization: Bearer <key>`. Needed on every "
                                    + "operation when the api has keys configured; the scope each operation needs "
                                    + "is listed in its security requirement. Without keys configured the api is "
                                    + "open (loopback only) and no key is needed.")));
            openApi.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, operation) -> {
                var described = operations.get(method + " " + path);
                if (described != null) {
                    describe(operation, described, parameters);
                }
            }));
        };
    }

    private static void describe(Operation operation, Operations.Operation described, Map<String, Schema> parameters) {
        operation.operationId(described.id()).tags(List.of(described.tag())).summary(described.summary())
                .description(described.description() + " Needs the scope `" + described.scope().value() + "`.")
                .requestBody(described.body()).responses(described.responses())
                // OpenAPI 3.1 lets a requirement of a scheme other than OAuth name roles: the scope needed
                .security(List.of(new SecurityRequirement().addList(BEARER, described.scope().value())));
        if (operation.getParameters() != null) {
            operation.getParameters().forEach(parameter -> {
                var schema = described.parameters().getOrDefault(parameter.getName(),
                        parameters.get(parameter.getName()));
                if (schema != null) {
                    parameter.schema(schema).description(schema.getDescription());
                }
            });
        }
    }
}
