from fhir_app.server import main

main()
